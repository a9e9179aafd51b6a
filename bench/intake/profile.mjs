#!/usr/bin/env node
/**
 * The intake's per-request work in one process, no sockets and no Kafka: the bench's OTLP protobuf
 * bodies decoded, mapped to Zipkin v2 and encoded as span lines, exactly as IntakeCore does before
 * the spool append (`--path lines`, the default: otlpToZipkinLines, mapping and encoding in one
 * pass; `--path two-step`: otlpToZipkin then encodeSpan per span, as before). CPU time per span, lowest of `--rounds`; for `node --cpu-prof` and for quick
 * before/after comparisons of the mapping on a busy machine (CPU time, not wall time).
 *
 *   npx tsc -b && node [--cpu-prof --cpu-prof-dir=DIR] bench/intake/profile.mjs [--requests 200] [--rounds 7] [--path lines|two-step]
 */
import { encodeSpan, otlpToZipkin, otlpToZipkinLines } from '@pintrace/model';
import { decodeOtlpProtobuf } from '../../logger-agent/dist/intake/decode.js';
import { exportRequests } from './otlp-load.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const requests = Number(args.requests ?? 200);
const rounds = Number(args.rounds ?? 7);
const onePass = (args.path ?? 'lines') === 'lines';
const { bodies } = exportRequests(requests, 512);
const spans = requests * 512;
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const stages = { decode: Infinity, map: Infinity, encode: Infinity, total: Infinity };
let bytes = 0;
for (let r = 0; r < rounds; r++) {
  let decode = 0;
  let map = 0;
  let encode = 0;
  bytes = 0;
  for (const body of bodies) {
    const c0 = cpu();
    const traces = decodeOtlpProtobuf(body);
    const c1 = cpu();
    let lines;
    let c2;
    if (onePass) {
      const converted = otlpToZipkinLines(traces);
      if (!converted.ok) throw new Error(converted.message);
      c2 = cpu();
      lines = converted.lines;
    } else {
      const converted = otlpToZipkin(traces);
      if (!converted.ok) throw new Error(converted.message);
      c2 = cpu();
      lines = converted.spans.map((s) => encodeSpan(s));
    }
    const c3 = cpu();
    for (const line of lines) bytes += Buffer.byteLength(line);
    decode += c1 - c0;
    map += c2 - c1;
    encode += c3 - c2;
  }
  stages.decode = Math.min(stages.decode, decode);
  stages.map = Math.min(stages.map, map);
  stages.encode = Math.min(stages.encode, encode);
  stages.total = Math.min(stages.total, decode + map + encode);
}
const us = (ms) => Math.round((ms * 1000 * 1000) / spans) / 1000;
console.log(
  JSON.stringify({
    path: onePass ? 'lines' : 'two-step',
    spans,
    lineBytesPerSpan: Math.round(bytes / spans),
    usPerSpan: { decode: us(stages.decode), map: us(stages.map), encode: us(stages.encode), total: us(stages.total) },
    spansPerCpuSecond: Math.round(spans / (stages.total / 1000)),
  }),
);
