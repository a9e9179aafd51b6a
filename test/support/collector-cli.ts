/**
 * `pintrace collector` as a user runs it (a child process), on a fresh topic and index prefix, for
 * tests of how it opens its store: fail fast with a message, or run and index.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { SpanProducer, TopicAdmin } from '@pintrace/kafka';
import { multiServiceTrace } from '../collector-fixtures.js';
import { collectorArgs } from './part-args.js';
import { startPart, type RunningPart } from './processes.js';
import { eventually, kafkaBrokers, uniqueName } from './servers.js';

export interface CollectorRun {
  part: RunningPart;
  topic: string;
  prefix: string;
  metricsPort: number;
  /** Spans put on the topic so far. */
  sent(): number;
  send(traces: number): Promise<void>;
  log(): string;
}

export interface CollectorCliOptions {
  name: string;
  /** --es and the --es-* flags (or --config FILE). */
  storeArgs: string[];
  metricsPort: number;
  admin: TopicAdmin;
  producer: SpanProducer;
}

export async function startCollectorCli(o: CollectorCliOptions): Promise<CollectorRun> {
  const topic = uniqueName(`css-${o.name}`);
  const prefix = uniqueName('pcss');
  await o.admin.ensureTopic(topic, 2);
  const part = startPart(
    `collector-store-${o.name}`,
    collectorArgs({
      kafka: kafkaBrokers.join(','),
      store: o.storeArgs,
      topic,
      groupId: `${topic}-g`,
      indexPrefix: prefix,
      indexReplicas: 0,
      indexShards: 1,
      groupWindowMs: 0,
      sessionTimeoutMs: 6000,
      metricsPort: o.metricsPort,
    }),
  );
  let spans = 0;
  return {
    part,
    topic,
    prefix,
    metricsPort: o.metricsPort,
    sent: () => spans,
    send: async (traces) => {
      const batch = Array.from({ length: traces }, () => multiServiceTrace(prefix));
      await o.producer.send(
        topic,
        batch.map((t) => ({ key: t[0]!.traceId, value: JSON.stringify(t) })),
      );
      spans += batch.reduce((n, t) => n + t.length, 0);
    },
    log: () => readFileSync(part.logFile, 'utf8'),
  };
}

export function expectNoSecret(text: string, secrets: readonly string[], where: string): void {
  for (const secret of secrets) expect(text.includes(secret), `a secret in ${where}`).toBe(false);
}

/**
 * The run ends non-zero within 30 s of its start, without ever waiting, with one "collector
 * failed" line whose error has `code` and a message matching `says`; its log holds no secret.
 */
export async function expectFailFast(run: CollectorRun, startedAt: number, code: string, says: RegExp, secrets: readonly string[]): Promise<void> {
  const timeout = new Promise<string>((resolve) =>
    setTimeout(() => resolve('still running after 30 s'), Math.max(0, 30_000 - (Date.now() - startedAt))).unref(),
  );
  const exit = await Promise.race([run.part.exited, timeout]);
  const log = run.log();
  expect(exit, log.slice(-2000)).not.toBe('still running after 30 s');
  expect(exit).not.toBe(0);
  expect(Date.now() - startedAt).toBeLessThan(30_000);
  const failed = log.split('\n').filter((l) => l.includes('"collector failed"'));
  expect(failed).toHaveLength(1);
  const err = (JSON.parse(failed[0]!) as { err: { message: string; code: string } }).err;
  expect(err.code).toBe(code);
  expect(err.message).toMatch(says);
  expect(log).not.toMatch(/waiting for the store/);
  expectNoSecret(log, secrets, `the log of ${run.part.logFile}`);
}

/** Waits until the log has a line matching `pattern`, failing early if the process ended. */
export async function logLine(run: CollectorRun, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  return eventually(
    async () => {
      const line = run
        .log()
        .split('\n')
        .find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (run.part.child.exitCode !== null) throw new Error(`exited ${run.part.child.exitCode}:\n${run.log().slice(-2000)}`);
      return undefined;
    },
    { timeoutMs, intervalMs: 200, what: String(pattern) },
  );
}
