#!/usr/bin/env node
/**
 * The RED stage's hot path alone, in one process, for `node --cpu-prof`: bench/collector's burst
 * (130,005 spans, built as its run.mjs builds them, normalised by the model's checkSpan) added to
 * `RedWindows` in batches of 5,000, 40 times; prints the time per span of each pass.
 *
 *   npx tsc -b && node bench/collector/red-profile.mjs [--cpu-prof]
 */
import { randomBytes } from 'node:crypto';
import { checkSpan } from '@pintrace/model';
import { RedWindows } from '@pintrace/collector';
const hex = (n) => randomBytes(n).toString('hex');
const now = (Date.now() - 60_000) * 1000;
const spans = [];
for (let j = 0; j < 10000; j++) {
  const n = 6 + ((j * 7) % 15);
  const traceId = hex(16);
  const rootId = hex(8);
  spans.push({
    traceId,
    id: rootId,
    kind: 'SERVER',
    name: 'get /burst',
    timestamp: now + j,
    duration: 50_000,
    localEndpoint: { serviceName: 'burst-frontend', ipv4: '10.1.0.1' },
    tags: { 'http.path': '/burst' },
  });
  for (let i = 1; i < n; i++)
    spans.push({
      traceId,
      parentId: rootId,
      id: hex(8),
      kind: 'CLIENT',
      name: `call ${i % 5}`,
      timestamp: now + j + i * 100,
      duration: 1000 + i,
      localEndpoint: { serviceName: 'burst-frontend', ipv4: '10.1.0.1' },
      remoteEndpoint: { serviceName: `burst-backend-${i % 4}`, port: 9000 },
      tags: { 'http.path': `/b/${i % 7}`, peer: `p${i}` },
    });
}
const checked = spans.map((s) => checkSpan(s).span);
for (let rep = 0; rep < 40; rep++) {
  const w = new RedWindows({ windowMs: 10000, collectorId: 'x' });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < checked.length; i += 5000) w.add(checked.slice(i, i + 5000), Date.now());
  const docs = w.closeAll();
  const ns = Number(process.hrtime.bigint() - t0);
  console.log(`${checked.length} spans ${(ns / 1e6).toFixed(1)} ms, ${(ns / checked.length).toFixed(0)} ns/span, docs ${docs.length}`);
}
