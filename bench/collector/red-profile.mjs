#!/usr/bin/env node
/**
 * The RED stage's hot path alone, in one process, for `node --cpu-prof`: bench/collector's burst
 * (130,005 spans from bench/lib/burst.mjs, as its run.mjs sends them, normalised by the model's
 * checkSpan) added to `RedWindows` in batches of 5,000, 40 times; prints the time per span of
 * each pass.
 *
 *   npx tsc -b && node bench/collector/red-profile.mjs [--cpu-prof]
 */
import { checkSpan } from '@pintrace/model';
import { RedWindows } from '@pintrace/collector';
import { burstTraces } from '../lib/burst.mjs';

const spans = [...burstTraces(10_000, (Date.now() - 60_000) * 1000)].flat();
const checked = spans.map((s) => checkSpan(s).span);
for (let rep = 0; rep < 40; rep++) {
  const w = new RedWindows({ windowMs: 10000, collectorId: 'x' });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < checked.length; i += 5000) w.add(checked.slice(i, i + 5000), Date.now());
  const docs = w.closeAll();
  const ns = Number(process.hrtime.bigint() - t0);
  console.log(`${checked.length} spans ${(ns / 1e6).toFixed(1)} ms, ${(ns / checked.length).toFixed(0)} ns/span, docs ${docs.length}`);
}
