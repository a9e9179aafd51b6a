/**
 * Acceptance: 100,000 malformed lines mixed into a span log (not JSON, huge lines, binary,
 * partial spans, JSON that is not a span) do not crash `pintrace agent` or hold its stream: every
 * valid span arrives in Kafka, every reject is counted and lands in the dead-letter topic.
 * Counts go to stdout and test/artifacts/agent-malformed.json.
 * Run alone: npx vitest run --project integration test/agent-malformed.test.ts
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAdmin } from '@pintrace/kafka';
import { countArrivals, seqLine } from './support/agent-load.js';
import { agentArgs } from './support/part-args.js';
import { freePort, metric } from './support/ports.js';
import { startPart, type RunningPart } from './support/processes.js';
import { eventually, kafkaBrokers, uniqueName } from './support/servers.js';

const VALID = 100_000;
const MALFORMED = 100_000;

/**
 * Random bytes with no newline in them (so one binary line stays one line), framed by a control
 * byte so that no random line happens to look like `{…}` (that would be a `no_trace_id` reject).
 */
function binaryLine(len: number): Buffer {
  const b = randomBytes(len);
  for (let i = 0; i < b.length; i++) if (b[i] === 0x0a) b[i] = 0x00;
  b[0] = 0x01;
  b[b.length - 1] = 0x01;
  return b;
}

/** The i-th malformed line and the reject reason it is expected under. */
function malformed(i: number): { line: Buffer; reason: string } {
  switch (i % 10) {
    case 0:
    case 1:
      return { line: Buffer.from(`GET /health 200 ${i} not a span at all`), reason: 'not_json_object' };
    case 2:
    case 3:
      return { line: binaryLine(20 + (i % 400)), reason: 'not_json_object' };
    case 4:
    case 5: {
      const span = seqLine(VALID + i).trimEnd();
      return { line: Buffer.from(span.slice(0, 20 + (i % (span.length - 30)))), reason: 'not_json_object' }; // cut short: partial
    }
    case 6:
      return { line: Buffer.from(`{"traceId":"${'ab'.repeat(8)}","id":"${i}",}`), reason: 'invalid_json' };
    case 7:
      return { line: Buffer.from(`{"message":"a log line, not a span","n":${i}}`), reason: 'no_trace_id' };
    case 8:
      return { line: Buffer.from(`{"traceId":"not-hex-${i}","id":"1"}`), reason: 'no_trace_id' };
    default:
      // Huge: every 5000th is longer than the read buffer (stepped over), the others 2-10 KB of text.
      if (i % 5000 === 9) return { line: Buffer.alloc(1_200_000, 'x'), reason: 'oversized_line' };
      return { line: Buffer.from('y'.repeat(2_000 + (i % 8_000))), reason: 'not_json_object' };
  }
}

describe('logger agent with malformed input (real Kafka)', () => {
  const admin = createAdmin(kafkaBrokers);
  let agent: RunningPart | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'pintrace-agent-malformed-'));
  afterAll(async () => {
    await agent?.kill();
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`ships ${VALID} valid spans among ${MALFORMED} malformed lines, counts every reject and sends it to the dead-letter topic`, async () => {
    const topic = uniqueName('agent-malformed');
    const dlq = `${topic}-dlq`;
    await admin.ensureTopic(topic, 3);
    await admin.ensureTopic(dlq, 1);
    const live = path.join(dir, 'svc.jsonl');
    const expected: Record<string, number> = {};
    let bad = 0;
    let valid = 0;
    let bytes = 0;
    // Interleave: one malformed line after each valid one, written in chunks.
    while (valid < VALID) {
      const parts: Buffer[] = [];
      for (let k = 0; k < 1000; k++) {
        parts.push(Buffer.from(seqLine(valid++)));
        const m = malformed(bad++);
        expected[m.reason] = (expected[m.reason] ?? 0) + 1;
        parts.push(m.line, Buffer.from('\n'));
      }
      const chunk = Buffer.concat(parts);
      bytes += chunk.length;
      appendFileSync(live, chunk);
    }
    appendFileSync(live, '{"traceId":"abababababababab","id":"partial-last-line"'); // no newline: never shipped

    const port = await freePort();
    const started = Date.now();
    agent = startPart('agent-malformed', agentArgs({ kafka: kafkaBrokers.join(','), topic, deadLetterTopic: dlq, spansDir: dir, metricsPort: port }));
    const counter = await countArrivals(kafkaBrokers, topic, VALID);
    try {
      await eventually(
        async () => {
          if (agent!.child.exitCode !== null) throw new Error(`agent exited with ${agent!.child.exitCode}`);
          return counter.distinct() >= VALID ? true : undefined;
        },
        { timeoutMs: 300_000, intervalMs: 250, what: `${VALID} valid spans (have ${counter.distinct()})` },
      );
      const skipped = await eventually(
        async () => {
          const n = await metric(port, 'pintrace_agent_skipped_lines_total');
          return n >= MALFORMED ? n : undefined;
        },
        { timeoutMs: 60_000, what: 'every reject counted' },
      );
      const byReason: Record<string, number> = {};
      for (const reason of Object.keys(expected)) byReason[reason] = await metric(port, 'pintrace_agent_skipped_lines_total', { reason });
      const deadLetters = await eventually(
        async () => {
          const n = (await admin.endOffsets(dlq)).reduce((s, p) => s + Number(p.offset), 0);
          return n >= MALFORMED ? n : undefined;
        },
        { timeoutMs: 60_000, what: 'every reject in the dead-letter topic' },
      );
      const elapsedMs = Date.now() - started;
      expect(await agent.stop()).toBe(0);

      const results = {
        test: 'agent-malformed',
        date: new Date().toISOString(),
        validLines: VALID,
        malformedLines: MALFORMED,
        fileBytes: bytes,
        validArrived: counter.distinct(),
        missing: counter.missing().length,
        duplicates: counter.duplicates(),
        rejectsCounted: skipped,
        rejectsByReason: byReason,
        expectedByReason: expected,
        deadLetterRecords: deadLetters,
        elapsedMs,
      };
      mkdirSync(path.join(process.cwd(), 'test', 'artifacts'), { recursive: true });
      writeFileSync(path.join(process.cwd(), 'test', 'artifacts', 'agent-malformed.json'), JSON.stringify(results, null, 2) + '\n');
      process.stdout.write(`agent-malformed: ${JSON.stringify(results)}\n`);
      expect(counter.missing()).toEqual([]);
      expect(skipped).toBe(MALFORMED);
      expect(byReason).toEqual(expected);
      expect(deadLetters).toBe(MALFORMED);
    } finally {
      await counter.stop();
    }
  }, 600_000);
});
