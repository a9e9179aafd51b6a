/**
 * The logger agent against the real Kafka of the devstack, run as `pintrace agent` child
 * processes: every span line of a rotating span log arrives exactly once after a graceful run,
 * and after a kill -9 mid-stream and a restart every line still arrives, with duplicates of at
 * most the one batch that was in flight.
 * Run alone: npx vitest run --project integration test/agent-kafka.test.ts
 */
import { appendFileSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createAdmin, createConsumer, type ConsumedMessage, type SpanConsumer, type TopicAdmin } from '@pintrace/kafka';
import { agentArgs } from './support/part-args.js';
import { freePort, metric } from './support/ports.js';
import { startPart, type RunningPart } from './support/processes.js';
import { eventually, kafkaBrokers, uniqueName } from './support/servers.js';

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Span line n; 40 traces, some with 128-bit ids, so keys and partitions vary. */
function spanLine(n: number): string {
  const t = n % 40;
  const traceId = t % 2 === 0 ? `a1b2c3d4${hex(t + 1, 8)}` : `0123456789abcdef${hex(t + 1, 16)}`;
  return (
    JSON.stringify({
      traceId,
      id: hex(n + 1, 16),
      name: 'get /x',
      kind: 'SERVER',
      timestamp: 1_700_000_000_000_000 + n,
      duration: 5,
      localEndpoint: { serviceName: 'svc' },
    }) + '\n'
  );
}
const spanLines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => spanLine(from + i)).join('');

interface Collected {
  consumer: SpanConsumer;
  messages: ConsumedMessage[];
  /** Span id → times seen. */
  seen: Map<string, number>;
}

/** Fails at once when an agent that should be running has exited. */
function alive(...parts: RunningPart[]): void {
  for (const p of parts) if (p.child.exitCode !== null) throw new Error(`agent exited early with ${p.child.exitCode}`);
}

async function collect(topic: string): Promise<Collected> {
  const consumer = createConsumer({ brokers: kafkaBrokers, groupId: uniqueName('agent-check'), topics: [topic], fromBeginning: true, maxWaitTimeMs: 200 });
  const messages: ConsumedMessage[] = [];
  const seen = new Map<string, number>();
  await consumer.connect();
  await consumer.run(async (batch) => {
    for (const m of batch.messages) {
      messages.push(m);
      for (const s of JSON.parse(m.value!.toString()) as Array<{ id: string }>) seen.set(s.id, (seen.get(s.id) ?? 0) + 1);
    }
  });
  return { consumer, messages, seen };
}

describe('logger agent → real Kafka', () => {
  const admin: TopicAdmin = createAdmin(kafkaBrokers);
  const running: RunningPart[] = [];
  const consumers: SpanConsumer[] = [];

  /** `pintrace agent`'s command line for a child process. */
  const args = (topic: string, spansDir: string, port: number, batchLines: number) =>
    agentArgs({ kafka: kafkaBrokers.join(','), topic, spansDir, metricsPort: port, batchLines, pollIntervalMs: 200 });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.kill()));
    await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
  });
  afterAll(() => admin.close());

  it('ships every line of a rotating span log exactly once, as [span,...] lists keyed by trace id', async () => {
    const topic = uniqueName('agent');
    await admin.ensureTopic(topic, 3);
    const spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-agent-it-'));
    const live = path.join(spansDir, 'svc.jsonl');
    appendFileSync(live, spanLines(0, 400));
    const port = await freePort();
    const agent = startPart('agent-kafka', args(topic, spansDir, port, 50));
    running.push(agent);
    const got = await collect(topic);
    consumers.push(got.consumer);

    appendFileSync(live, spanLines(400, 700));
    renameSync(live, `${live}.${Date.now()}`); // rotation by rename, possibly while the agent is behind
    appendFileSync(live, spanLines(700, 1000));
    await eventually(async () => (alive(agent), got.seen.size >= 1000 ? true : undefined), { timeoutMs: 60_000, what: `1000 spans (have ${got.seen.size})` });
    await eventually(async () => ((await metric(port, 'pintrace_agent_lines_total')) >= 1000 ? true : undefined), { what: 'agent metrics' });
    expect(await agent.stop()).toBe(0);

    await new Promise((r) => setTimeout(r, 500));
    expect([...got.seen.values()].every((n) => n === 1)).toBe(true);
    expect(got.seen.size).toBe(1000);
    const partitionsOfKey = new Map<string, Set<number>>();
    for (const m of got.messages) {
      const value = m.value!.toString();
      expect(value[0]).toBe('[');
      const key = m.key!.toString();
      for (const s of JSON.parse(value) as Array<{ traceId: string }>) expect(s.traceId.slice(-16)).toBe(key);
      partitionsOfKey.set(key, (partitionsOfKey.get(key) ?? new Set()).add(m.partition));
    }
    expect(partitionsOfKey.size).toBe(40);
    for (const ps of partitionsOfKey.values()) expect(ps.size).toBe(1);
  });

  // The agent's producer waits for a drained producer per batch (docs/decisions.md D4): streams
  // sharing it go in rounds, and none may be starved by the others' batches.
  it('ships several busy streams through the one shared producer, each line exactly once', async () => {
    const topic = uniqueName('agent-streams');
    await admin.ensureTopic(topic, 3);
    const spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-agent-it-'));
    const streams = ['a', 'b', 'c', 'd'];
    const perStream = 3000;
    const got = await collect(topic);
    consumers.push(got.consumer);
    const port = await freePort();
    const agent = startPart('agent-streams', args(topic, spansDir, port, 100));
    running.push(agent);
    // Each stream's lines have span ids of their own; written in interleaved bursts while it runs.
    for (let from = 0; from < perStream; from += 500) {
      streams.forEach((name, k) => appendFileSync(path.join(spansDir, `${name}.jsonl`), spanLines(k * 100_000 + from, k * 100_000 + from + 500)));
      await new Promise((r) => setTimeout(r, 20));
    }
    const total = streams.length * perStream;
    await eventually(async () => (alive(agent), got.seen.size >= total ? true : undefined), {
      timeoutMs: 60_000,
      what: `${total} spans (have ${got.seen.size})`,
    });
    for (const name of streams) {
      await eventually(async () => ((await metric(port, 'pintrace_agent_lines_total', { stream: `${name}.jsonl` })) === perStream ? true : undefined), {
        what: `stream ${name} counted`,
      });
    }
    expect(await agent.stop()).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(got.seen.size).toBe(total);
    expect([...got.seen.values()].every((n) => n === 1)).toBe(true);
  });

  it('loses nothing when killed with SIGKILL mid-stream and restarted; re-sends at most one batch', async () => {
    const topic = uniqueName('agent-kill');
    await admin.ensureTopic(topic, 3);
    const spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-agent-it-'));
    const live = path.join(spansDir, 'svc.jsonl');
    const total = 6000;
    const batchLines = 100;
    const got = await collect(topic);
    consumers.push(got.consumer);
    const port = await freePort();
    let agent = startPart('agent-kill-1', args(topic, spansDir, port, batchLines));
    running.push(agent);

    // A writer that keeps appending and rotates every 1500 lines while the agent runs and dies.
    let written = 0;
    const writeSome = (n: number) => {
      for (let i = 0; i < n; i++, written++) {
        if (written > 0 && written % 1500 === 0) renameSync(live, `${live}.${Date.now()}-${written}`);
        appendFileSync(live, spanLine(written));
      }
    };
    writeSome(3000);
    await eventually(async () => (alive(agent), got.seen.size >= 500 ? true : undefined), { timeoutMs: 60_000, intervalMs: 5, what: 'first spans' });
    expect(await agent.kill()).toBe('SIGKILL');
    const seenAtKill = got.seen.size;
    // Killed mid-stream: lines were left unsent (with the consumer's delay, some may still arrive).
    await new Promise((r) => setTimeout(r, 1000));
    expect(got.seen.size).toBeLessThan(written);
    writeSome(2000);

    agent = startPart('agent-kill-2', args(topic, spansDir, port, batchLines));
    running.push(agent);
    writeSome(total - written);
    await eventually(async () => (alive(agent), got.seen.size >= total ? true : undefined), {
      timeoutMs: 90_000,
      what: `${total} spans (have ${got.seen.size})`,
    });
    expect(await agent.stop()).toBe(0);
    await new Promise((r) => setTimeout(r, 500));

    for (let n = 0; n < total; n++) expect(got.seen.has(hex(n + 1, 16)), `span ${n}`).toBe(true);
    const duplicates = [...got.seen.values()].reduce((sum, c) => sum + (c - 1), 0);
    process.stdout.write(`agent-kafka kill test: ${seenAtKill} spans seen at kill, ${duplicates} duplicates (batch ${batchLines})\n`);
    expect(duplicates).toBeLessThanOrEqual(batchLines);
  });
});
