/**
 * Truncation and inode reuse against the devstack's Kafka, with `pintrace agent` as a child
 * process: each scenario is detected (counted in /metrics or the log) and no line is silently
 * lost. Run alone: npx vitest run --project integration test/agent-truncation.test.ts
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createAdmin } from '@pintrace/kafka';
import { countArrivals, seqLines, type ArrivalCounter } from './support/agent-load.js';
import { agentArgs } from './support/part-args.js';
import { freePort, metric } from './support/ports.js';
import { startPart, type RunningPart } from './support/processes.js';
import { eventually, kafkaBrokers, uniqueName } from './support/servers.js';

describe('logger agent: truncation and inode reuse (real Kafka)', () => {
  const admin = createAdmin(kafkaBrokers);
  const parts: RunningPart[] = [];
  const counters: ArrivalCounter[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(parts.splice(0).map((p) => p.kill()));
    await Promise.all(counters.splice(0).map((c) => c.stop()));
  });
  afterAll(async () => {
    await admin.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const setup = async (name: string, capacity: number) => {
    const topic = uniqueName(name);
    await admin.ensureTopic(topic, 2);
    const dir = mkdtempSync(path.join(tmpdir(), `pintrace-${name}-`));
    dirs.push(dir);
    const port = await freePort();
    const counter = await countArrivals(kafkaBrokers, topic, capacity);
    counters.push(counter);
    const start = (tag: string) => {
      const p = startPart(`${name}-${tag}`, agentArgs({ kafka: kafkaBrokers.join(','), topic, spansDir: dir, metricsPort: port, pollIntervalMs: 100 }));
      parts.push(p);
      return p;
    };
    const arrived = (n: number) =>
      eventually(async () => (counter.distinct() >= n ? true : undefined), {
        timeoutMs: 90_000,
        intervalMs: 100,
        what: `${n} lines (have ${counter.distinct()})`,
      });
    return { dir, live: path.join(dir, 'svc.jsonl'), port, counter, start, arrived };
  };

  it('copy-truncate while running: the truncation is counted and the new lines arrive', async () => {
    const s = await setup('agent-trunc', 1500);
    writeFileSync(s.live, seqLines(0, 1000));
    s.start('1');
    await s.arrived(1000);
    truncateSync(s.live, 0);
    await eventually(async () => ((await metric(s.port, 'pintrace_agent_truncations_total')) >= 1 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'truncation counted',
    });
    appendFileSync(s.live, seqLines(1000, 1500));
    await s.arrived(1500);
    expect(s.counter.missing()).toEqual([]);
    expect(s.counter.duplicates()).toBe(0);
  });

  it('file rewritten with different, longer content while the agent was stopped: detected, nothing lost', async () => {
    const s = await setup('agent-rewrite', 3000);
    writeFileSync(s.live, seqLines(0, 1000));
    const first = s.start('1');
    await s.arrived(1000);
    expect(await first.stop()).toBe(0);
    // Same inode, new content longer than the committed offset: only the fingerprint can tell.
    writeFileSync(s.live, seqLines(1000, 3000));
    const second = s.start('2');
    await s.arrived(3000);
    expect(await second.stop()).toBe(0);
    // Same inode, other first bytes: indistinguishable from a reused inode, and handled the same way.
    expect(readFileSync(second.logFile, 'utf8')).toMatch(/"reason":"inode_reused"|content was replaced|truncated/);
    expect(s.counter.missing()).toEqual([]);
    expect(s.counter.duplicates()).toBe(0);
  });

  it('file deleted and re-created while the agent was stopped (inode possibly reused): the new file is shipped whole', async () => {
    const s = await setup('agent-inode', 2000);
    writeFileSync(s.live, seqLines(0, 1000));
    const ino = statSync(s.live).ino;
    const first = s.start('1');
    await s.arrived(1000);
    expect(await first.stop()).toBe(0);
    unlinkSync(s.live);
    writeFileSync(s.live, seqLines(1000, 2000));
    const reused = statSync(s.live).ino === ino;
    const second = s.start('2');
    await s.arrived(2000);
    expect(await second.stop()).toBe(0);
    const log = readFileSync(second.logFile, 'utf8');
    expect(log).toMatch(reused ? /"reason":"inode_reused"/ : /"reason":"file_missing"/);
    process.stdout.write(
      `agent-truncation: re-created file ${reused ? 'reused' : 'did not reuse'} the old inode; detected as ${reused ? 'inode_reused' : 'file_missing'}\n`,
    );
    expect(s.counter.missing()).toEqual([]);
    expect(s.counter.duplicates()).toBe(0);
  });
});
