/**
 * Runs every bench/tracer scenario and writes results.json and results.svg beside this file:
 *   npm run build && node bench/tracer/run.mjs
 * The load average before and after is recorded: on a busy machine the numbers move; the ratios
 * (measured with the tracers interleaved) are what to read.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { httpThroughput, loadGenerator } from './http-throughput.mjs';
import { versions } from './peers.mjs';
import { renderChart } from './plot.mjs';
import { spanCost } from './span-cost.mjs';
import { unsampledRequest, unsampledSpan } from './unsampled-request.mjs';

const loadBefore = loadavg().map((x) => +x.toFixed(2));
const spans = await spanCost(Number(process.env.BENCH_SPANS ?? 200_000));
const request = await unsampledRequest();
const bareSpan = unsampledSpan();
const http = await httpThroughput(Number(process.env.BENCH_HTTP_SECONDS ?? 8), Number(process.env.BENCH_HTTP_ROUNDS ?? 5));

const by = (rows, name) => rows.find((r) => r.tracer.startsWith(name));
const otelNoop = by(spans.sampled, 'otel-sdk (no-op');
const ours = by(spans.sampled, 'pintrace');
const results = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadBefore.join('/')} before`,
  versions,
  spanCost: spans,
  unsampledRequest: request,
  unsampledSpan: bareSpan,
  http: http,
  httpLoadGenerator: loadGenerator,
  ratios: {
    sampledSpanVsOtelNoop: +(ours.cpuUs / otelNoop.cpuUs).toFixed(3),
    sampledSpanVsOtelZipkinJson: +(ours.cpuUs / by(spans.sampled, 'otel-sdk+zipkin').cpuUs).toFixed(3),
    sampledSpanVsZipkinJs: +(ours.cpuUs / by(spans.sampled, 'zipkin-js').cpuUs).toFixed(3),
    sampledSpanPathVsOtelNoopPath: +(ours.pathUs / otelNoop.pathUs).toFixed(3),
    unsampledSpanVsOtel: +(by(spans.unsampled, 'pintrace').cpuUs / by(spans.unsampled, 'otel-sdk').cpuUs).toFixed(3),
    httpThroughput03VsOff: http.find((r) => r.sampling === '0.3 %').vsOff,
    httpThroughput100VsOff: http.find((r) => r.sampling === '100 %').vsOff,
    httpThroughputAlsOnlyVsOff: http.find((r) => r.sampling === 'als only').vsOff,
    httpThroughputFloorVsOff: http.find((r) => r.sampling.startsWith('floor')).vsOff,
    httpThroughputOtel100VsOff: http.find((r) => r.sampling.startsWith('OTel')).vsOff,
    httpThroughput100VsOtel100: Math.round((http.find((r) => r.sampling === '100 %').reqPerSec / http.find((r) => r.sampling.startsWith('OTel')).reqPerSec) * 100) / 100,
  },
  loadAfter: loadavg().map((x) => +x.toFixed(2)),
};
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(new URL('./results.svg', import.meta.url), renderChart(results));
console.table(spans.sampled);
console.table(spans.unsampled);
console.table(request);
console.table(bareSpan);
console.table(http.map(({ rounds, ...row }) => row));
console.log(results.ratios);
