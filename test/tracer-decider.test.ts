import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from '@pintrace/demo';
import { DeciderRateSource, FileDecider, writeDeciderFile } from '@pintrace/sampler';
import { silentLogger } from '@pintrace/tracer';

/**
 * Acceptance: a running demo service (real HTTP servers, real span files) follows its decider file
 * without restart: a change takes effect within 2 s, and a corrupt file leaves the last rate in
 * force. The sampled fraction is measured from the spans the frontend actually wrote.
 */
describe('decider file → sampled fraction of a running service', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'pintrace-decider-'));
  const spansDir = path.join(root, 'spans');
  const deciderFile = path.join(root, 'config', 'decider.json');
  let decider: FileDecider;
  let demo: Demo;

  beforeAll(async () => {
    await writeDeciderFile(deciderFile, { 'pintrace.sample_rate': 0 });
    decider = new FileDecider({ path: deciderFile, logger: silentLogger });
    const sampleRate = new DeciderRateSource({ decider, serviceName: 'frontend' });
    demo = await startDemo({ spansDir, sampleRate, logger: silentLogger });
  });

  afterAll(async () => {
    await demo?.shutdown();
    await decider?.shutdown();
  });

  /** Trace ids of frontend root spans written so far. */
  async function sampledTraceIds(): Promise<Set<string>> {
    await demo.flush();
    if (!existsSync(spansDir)) return new Set();
    // the frontend's span files: one per process (`frontend@<instance>.jsonl`), live or rotated
    const text = readdirSync(spansDir)
      .filter((n) => n.startsWith('frontend@'))
      .map((n) => readFileSync(path.join(spansDir, n), 'utf8'))
      .join('');
    const ids = new Set<string>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      const span = JSON.parse(line) as { traceId: string; parentId?: string };
      if (!span.parentId) ids.add(span.traceId);
    }
    return ids;
  }

  async function request(): Promise<string> {
    const res = await fetch(demo.frontendUrl);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    return res.headers.get('x-trace-id')!;
  }

  /** Sends n requests (8 at a time) and returns the fraction whose trace was sampled. */
  async function sampledFraction(n: number): Promise<number> {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 8) ids.push(...(await Promise.all(Array.from({ length: Math.min(8, n - i) }, request))));
    const sampled = await sampledTraceIds();
    return ids.filter((id) => sampled.has(id)).length / n;
  }

  /** Writes the file, then sends requests until one is sampled or not as expected; returns the delay. */
  async function changeAndWait(values: Record<string, number>, expectSampled: boolean): Promise<number> {
    const started = Date.now();
    await writeDeciderFile(deciderFile, values);
    while (Date.now() - started < 5000) {
      const id = await request();
      if ((await sampledTraceIds()).has(id) === expectSampled) return Date.now() - started;
      await new Promise((r) => setTimeout(r, 25));
    }
    return Number.POSITIVE_INFINITY;
  }

  it('samples nothing at 0 %, everything within 2 s of setting 100 %, about 30 % at 30 %', async () => {
    expect(await sampledFraction(40)).toBe(0);

    expect(await changeAndWait({ 'pintrace.sample_rate': 100 }, true)).toBeLessThan(2000);
    expect(await sampledFraction(40)).toBe(1);

    // a per-service key overrides the global one
    expect(await changeAndWait({ 'pintrace.sample_rate': 100, 'pintrace.sample_rate.frontend': 0 }, false)).toBeLessThan(2000);
    expect(await sampledFraction(40)).toBe(0);

    await writeDeciderFile(deciderFile, { 'pintrace.sample_rate': 30 });
    await new Promise((r) => setTimeout(r, 1500));
    const fraction = await sampledFraction(400);
    expect(fraction).toBeGreaterThan(0.2);
    expect(fraction).toBeLessThan(0.4);
  });

  it('keeps the last rate in force when the file becomes corrupt, and counts it', async () => {
    await writeDeciderFile(deciderFile, { 'pintrace.sample_rate': 100 });
    await new Promise((r) => setTimeout(r, 1500));
    const errorsBefore = decider.stats().errors;
    writeFileSync(deciderFile, '{"pintrace.sample_rate": 0'); // truncated JSON, written in place
    await new Promise((r) => setTimeout(r, 1500));
    expect(decider.stats().errors).toBe(errorsBefore + 1);
    expect(await sampledFraction(40)).toBe(1);
    writeFileSync(deciderFile, '{"pintrace.sample_rate": "zero"}'); // valid JSON, invalid value
    await new Promise((r) => setTimeout(r, 1500));
    expect(decider.stats().errors).toBe(errorsBefore + 2);
    expect(await sampledFraction(40)).toBe(1);
    // and a good file is followed again
    expect(await changeAndWait({ 'pintrace.sample_rate': 0 }, false)).toBeLessThan(2000);
  });
});
