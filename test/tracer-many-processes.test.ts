/**
 * Acceptance (issue 18, item 5): many processes of one service on one host lose no span through
 * rotation and restarts. Before: all appended to `<service>.jsonl` and each rotated it on its own;
 * two rotations in one millisecond picked the same `<service>.jsonl.<ms>` and the second rename
 * replaced the first file (3 × 30,000 spans with 256 KiB rotation → 88,200 lines, 1,800 lost).
 * Now each process writes `<service>@<pid>-<random>.jsonl`, which only it renames.
 * Run alone: npx vitest run --project integration test/tracer-many-processes.test.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createAdmin, createConsumer, type SpanConsumer } from '@pintrace/kafka';
import { agentArgs } from './support/part-args.js';
import { freePort } from './support/ports.js';
import { startPart, type RunningPart } from './support/processes.js';
import { eventually, kafkaBrokers, uniqueName } from './support/servers.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const ROTATE_BYTES = 256 * 1024;

/** A service process: `count` spans through the built tracer, a flush every 1,000 (so the queue never overflows), then a clean exit. */
function writerScript(dir: string): string {
  const script = path.join(dir, 'writer.mjs');
  writeFileSync(
    script,
    `import { startTracing, silentLogger } from ${JSON.stringify(pathToFileURL(path.join(repoRoot, 'tracer', 'dist', 'index.js')).href)};
    const [spansDir, count] = [process.argv[2], Number(process.argv[3])];
    const tracing = startTracing({
      serviceName: 'multi', spansDir, sampleRate: 100, registerGlobal: false, logger: silentLogger,
      spanLogger: { rotateBytes: ${ROTATE_BYTES} },
    });
    for (let i = 0; i < count; i++) {
      tracing.tracer.startSpan('work', { attributes: { i, pid: process.pid } }).end();
      if (i % 1000 === 999) await tracing.flush();
    }
    await tracing.shutdown();
    console.log(JSON.stringify(tracing.spanLogger.stats()));
  `,
  );
  return script;
}

interface WriterStats {
  written: number;
  dropped: number;
  rotations: number;
  writeErrors: number;
}

function runWriters(script: string, spansDir: string, processes: number, spansEach: number): Promise<WriterStats[]> {
  return Promise.all(
    Array.from(
      { length: processes },
      () =>
        new Promise<WriterStats>((resolve, reject) => {
          const child = spawn(process.execPath, [script, spansDir, String(spansEach)], { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.stderr.on('data', (d: Buffer) => (err += d.toString()));
          child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as WriterStats) : reject(new Error(`writer exited ${code}: ${err}`))));
        }),
    ),
  );
}

/** Every span line in the directory's span files: total lines and distinct span ids. */
function onDisk(spansDir: string): { files: string[]; lines: number; ids: Set<string> } {
  const files = readdirSync(spansDir).filter((n) => n.startsWith('multi'));
  const ids = new Set<string>();
  let lines = 0;
  for (const name of files) {
    for (const line of readFileSync(path.join(spansDir, name), 'utf8').split('\n')) {
      if (!line) continue;
      lines++;
      ids.add((JSON.parse(line) as { id: string }).id);
    }
  }
  return { files, lines, ids };
}

describe('many processes of one service on one host', () => {
  it('3 processes × 30,000 spans with 256 KiB rotation: exactly 90,000 distinct spans on disk; 3 restarted processes add theirs', async () => {
    const spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-multi-'));
    const script = writerScript(spansDir);
    const first = await runWriters(script, spansDir, 3, 30_000);
    for (const s of first) expect(s).toMatchObject({ written: 30_000, dropped: 0, writeErrors: 0 });
    // 30,000 lines of ~200 bytes through 256 KiB files: each process rotated many times
    expect(first.every((s) => s.rotations > 10)).toBe(true);
    const afterFirst = onDisk(spansDir);
    expect(afterFirst.lines).toBe(90_000);
    expect(afterFirst.ids.size).toBe(90_000);
    // every process sealed its last file at exit: no live file is left behind
    expect(afterFirst.files.every((n) => /^multi@\d+-[a-z0-9]{6}\.jsonl\.\d+$/.test(n))).toBe(true);
    expect(new Set(afterFirst.files.map((n) => n.split('.jsonl')[0])).size).toBe(3);

    // the service restarts: new processes, new files; nothing of the first generation is touched
    const before = new Map(afterFirst.files.map((n) => [n, readFileSync(path.join(spansDir, n), 'utf8')]));
    const second = await runWriters(script, spansDir, 3, 10_000);
    for (const s of second) expect(s).toMatchObject({ written: 10_000, dropped: 0, writeErrors: 0 });
    const afterRestart = onDisk(spansDir);
    expect(afterRestart.lines).toBe(120_000);
    expect(afterRestart.ids.size).toBe(120_000);
    for (const [name, content] of before) expect(readFileSync(path.join(spansDir, name), 'utf8')).toBe(content);
  }, 180_000);

  describe('with the real agent and Kafka', () => {
    const admin = createAdmin(kafkaBrokers);
    const running: RunningPart[] = [];
    const consumers: SpanConsumer[] = [];
    afterAll(async () => {
      await Promise.all(running.splice(0).map((r) => r.stop()));
      await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
      await admin.close();
    });

    it('the agent ships all 90,000 spans of 3 processes rotating while it tails them, then retention removes the files of the exited processes', async () => {
      const topic = uniqueName('multi');
      await admin.ensureTopic(topic, 3);
      const spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-multi-agent-'));
      const stateDir = mkdtempSync(path.join(tmpdir(), 'pintrace-multi-state-'));
      const script = writerScript(mkdtempSync(path.join(tmpdir(), 'pintrace-multi-script-')));
      const port = await freePort();
      const agent = startPart(
        'agent-multi',
        agentArgs({ kafka: kafkaBrokers.join(','), topic, spansDir, stateDir, metricsPort: port, pollIntervalMs: 200, retentionSeconds: 2 }),
      );
      running.push(agent);

      const seen = new Map<string, number>();
      const consumer = createConsumer({ brokers: kafkaBrokers, groupId: uniqueName('multi-check'), topics: [topic], fromBeginning: true, maxWaitTimeMs: 200 });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.run(async (batch) => {
        for (const m of batch.messages) for (const s of JSON.parse(m.value!.toString()) as Array<{ id: string }>) seen.set(s.id, (seen.get(s.id) ?? 0) + 1);
      });

      const stats = await runWriters(script, spansDir, 3, 30_000);
      for (const s of stats) expect(s).toMatchObject({ written: 30_000, dropped: 0 });
      await eventually(async () => (seen.size >= 90_000 ? true : undefined), { timeoutMs: 120_000, what: `90,000 spans in ${topic} (have ${seen.size})` });
      expect(seen.size).toBe(90_000);
      // a graceful run sends each line once
      expect([...seen.values()].filter((n) => n > 1)).toEqual([]);
      // shipped, then past the 2 s retention: every file of the exited processes is removed
      await eventually(async () => (readdirSync(spansDir).filter((n) => !n.startsWith('.')).length === 0 ? true : undefined), {
        timeoutMs: 30_000,
        what: 'span files removed by retention',
      });
      expect(readdirSync(path.join(stateDir)).filter((n) => n.endsWith('.watermark.json'))).toEqual([]);
      expect(agent.child.exitCode).toBeNull();
    }, 240_000);
  });
});
