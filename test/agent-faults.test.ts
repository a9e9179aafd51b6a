/**
 * Acceptance: the logger agent loses nothing through crashes and rotation. 1,000,000 span lines
 * are written with 10 rotations by rename while `pintrace agent` is killed with SIGKILL 20 times
 * at random points (and restarted each time) against the devstack's Kafka. Every line must
 * arrive, and the duplicates must stay within one batch per kill. Counts are printed and written
 * to test/artifacts/agent-faults.json.
 * Run alone: npx vitest run --project integration test/agent-faults.test.ts
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAdmin } from '@pintrace/kafka';
import { countArrivals, rssMb, seqLines, type ArrivalCounter } from './support/agent-load.js';
import { agentArgs } from './support/part-args.js';
import { freePort, metric } from './support/ports.js';
import { startPart, type RunningPart } from './support/processes.js';
import { eventually, kafkaBrokers, uniqueName } from './support/servers.js';
import { seededRandom as prng } from './support/random.js';

const TOTAL = 1_000_000;
const ROTATIONS = 10;
const KILLS = 20;
const BATCH_LINES = 2000;
const CHUNK = 2000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('logger agent fault acceptance (real Kafka)', () => {
  const admin = createAdmin(kafkaBrokers);
  const parts: RunningPart[] = [];
  let counter: ArrivalCounter | undefined;
  let spansDir: string | undefined;
  afterAll(async () => {
    await Promise.all(parts.map((p) => p.kill()));
    await counter?.stop();
    await admin.close();
    if (spansDir) rmSync(spansDir, { recursive: true, force: true });
  });

  it(`ships ${TOTAL} lines through ${ROTATIONS} rotations and ${KILLS} SIGKILLs with no loss and at most one batch of duplicates per kill`, async () => {
    const seed = Number(process.env.PINTRACE_FAULT_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const topic = uniqueName('agent-faults');
    await admin.ensureTopic(topic, 3);
    spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-agent-faults-'));
    const live = path.join(spansDir, 'svc.jsonl');
    counter = await countArrivals(kafkaBrokers, topic, TOTAL);
    const port = await freePort();
    const args = agentArgs({ kafka: kafkaBrokers.join(','), topic, spansDir, metricsPort: port, batchLines: BATCH_LINES, pollIntervalMs: 200 });
    const started = Date.now();

    // The writer: chunks of lines as fast as a busy service, a rename rotation every TOTAL/ROTATIONS
    // lines. Each agent life gets its share written while it runs, so every kill lands mid-stream.
    let written = 0;
    let rotations = 0;
    const write = async (upTo: number) => {
      while (written < upTo) {
        const n = Math.min(CHUNK, upTo - written);
        appendFileSync(live, seqLines(written, written + n));
        written += n;
        if (written % (TOTAL / ROTATIONS) === 0) {
          renameSync(live, `${live}.${++rotations}`);
          writeFileSync(live, '');
        }
        await sleep(5);
      }
    };
    /** Resolves once this agent life acknowledged at least one batch. */
    const shipping = (agent: RunningPart) =>
      eventually(
        async () => {
          if (agent.child.exitCode !== null) throw new Error(`agent exited with ${agent.child.exitCode} (log ${agent.logFile})`);
          return (await metric(port, 'pintrace_agent_lines_total')) > 0 ? true : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 25, what: 'the agent to ship its first batch' },
      );

    let peakRss = 0;
    const sampler = setInterval(() => {
      for (const p of parts) peakRss = Math.max(peakRss, rssMb(p.child.pid) ?? 0);
    }, 100);
    const kills: Array<{ at: number; afterMs: number; written: number; arrived: number }> = [];
    try {
      for (let k = 0; k < KILLS; k++) {
        const agent = startPart(`agent-faults-${k + 1}`, args);
        parts.push(agent);
        const writing = write(Math.round((TOTAL * (k + 1)) / KILLS));
        await shipping(agent);
        const afterMs = Math.round(random() * 1500);
        await sleep(afterMs);
        expect(agent.child.exitCode, `agent ${k + 1} exited on its own (log ${agent.logFile})`).toBeNull();
        expect(await agent.kill()).toBe('SIGKILL');
        kills.push({ at: Date.now() - started, afterMs, written, arrived: counter.distinct() });
        await writing;
      }
      const last = startPart('agent-faults-final', args);
      parts.push(last);
      const c = counter;
      await eventually(
        async () => {
          if (last.child.exitCode !== null) throw new Error(`final agent exited with ${last.child.exitCode}`);
          return c.distinct() >= TOTAL ? true : undefined;
        },
        { timeoutMs: 300_000, intervalMs: 250, what: `all ${TOTAL} lines (have ${c.distinct()})` },
      );
      const drainedMs = Date.now() - started;
      // The last life may find nothing left to send; let it come up before the graceful stop.
      await eventually(async () => ((await metric(port, 'pintrace_agent_streams')) >= 1 ? true : undefined), {
        timeoutMs: 120_000,
        intervalMs: 100,
        what: 'the final agent up',
      });
      expect(await last.stop()).toBe(0);
      await sleep(2000); // late duplicates, if any, are counted too
      clearInterval(sampler);

      const resets = parts.reduce((n, p) => n + (readFileSync(p.logFile, 'utf8').match(/watermark file not found as recorded/g)?.length ?? 0), 0);
      const results = {
        test: 'agent-faults',
        date: new Date().toISOString(),
        seed,
        linesWritten: written,
        rotations,
        kills: kills.length,
        batchLines: BATCH_LINES,
        distinctArrived: c.distinct(),
        missing: c.missing().length,
        recordsRead: c.records,
        messagesRead: c.messages,
        duplicates: c.duplicates(),
        duplicatesPerKill: Math.round((c.duplicates() / kills.length) * 10) / 10,
        duplicateBoundPerKill: BATCH_LINES,
        watermarkResets: resets,
        peakAgentRssMb: peakRss,
        allArrivedAfterMs: drainedMs,
        killPoints: kills,
      };
      mkdirSync(path.join(process.cwd(), 'test', 'artifacts'), { recursive: true });
      writeFileSync(path.join(process.cwd(), 'test', 'artifacts', 'agent-faults.json'), JSON.stringify(results, null, 2) + '\n');
      process.stdout.write(
        `agent-faults: ${written} lines written, ${rotations} rotations, ${kills.length} SIGKILLs; arrived ${c.distinct()} distinct, ` +
          `${results.missing} missing, ${c.duplicates()} duplicates (${results.duplicatesPerKill}/kill, bound ${BATCH_LINES}/kill), ` +
          `${resets} watermark resets, peak agent RSS ${peakRss} MB, all arrived after ${(drainedMs / 1000).toFixed(1)} s (seed ${seed})\n`,
      );
      expect(results.missing).toBe(0);
      expect(resets).toBe(0);
      expect(c.duplicates()).toBeLessThanOrEqual(kills.length * BATCH_LINES);
    } finally {
      clearInterval(sampler);
    }
  }, 600_000);
});
