/**
 * Runs every bench/tracer scenario and writes results.json and results.svg beside this file:
 *   npm run build && node bench/tracer/run.mjs
 * The load average before and after is recorded: on a busy machine the numbers move; the ratios
 * (measured with the tracers interleaved) are what to read. BENCH_HTTP_OTHER_NODE=<node binary>
 * runs the HTTP servers on that Node too, in the same rounds (recorded as `httpOtherNode`).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { httpThroughput, loadGenerator, otherNodeVersion } from './http-throughput.mjs';
import { versions } from './peers.mjs';
import { renderChart } from './plot.mjs';
import { spanCost } from './span-cost.mjs';
import { unsampledRequest, unsampledSpan } from './unsampled-request.mjs';

const loadBefore = loadavg().map((x) => +x.toFixed(2));
const spans = await spanCost(Number(process.env.BENCH_SPANS ?? 200_000));
const request = await unsampledRequest();
const bareSpan = unsampledSpan();
const { rows: http, other: httpOther } = await httpThroughput(Number(process.env.BENCH_HTTP_SECONDS ?? 8), Number(process.env.BENCH_HTTP_ROUNDS ?? 5));
const row = (rows, name) => rows.find((r) => r.sampling === name || r.sampling.startsWith(name));
/** The HTTP ratios of one Node's rows, all from the same run. */
const httpRatios = (rows) => ({
  httpThroughput03VsOff: row(rows, '0.3 %').vsOff,
  httpThroughput100VsOff: row(rows, '100 %').vsOff,
  httpThroughputAlsOnlyVsOff: row(rows, 'als only').vsOff,
  httpThroughputFloorVsOff: row(rows, 'floor').vsOff,
  httpThroughputBoundVsOff: row(rows, 'bound').vsOff,
  httpThroughputOtel100VsOff: row(rows, 'OTel').vsOff,
  httpThroughput03VsAlsOnly: +(row(rows, '0.3 %').reqPerSec / row(rows, 'als only').reqPerSec).toFixed(3),
  httpThroughput100VsOtel100: Math.round((row(rows, '100 %').reqPerSec / row(rows, 'OTel').reqPerSec) * 100) / 100,
  // the same comparisons by the server's CPU time per request (a ÷ b of b's and a's cost), which
  // other load on the machine moves less than requests/s
  httpCpu03VsAlsOnly: +(row(rows, 'als only').serverCpuUsPerReq / row(rows, '0.3 %').serverCpuUsPerReq).toFixed(3),
  httpCpu100VsOff: +(row(rows, 'off').serverCpuUsPerReq / row(rows, '100 %').serverCpuUsPerReq).toFixed(3),
  httpCpu100VsOtel100: +(row(rows, 'OTel').serverCpuUsPerReq / row(rows, '100 %').serverCpuUsPerReq).toFixed(2),
  // the same by each configuration's best round (see http-throughput.mjs): least disturbed by other load
  httpBest03VsAlsOnly: +(row(rows, '0.3 %').bestReqPerSec / row(rows, 'als only').bestReqPerSec).toFixed(3),
  httpBest100VsOff: +(row(rows, '100 %').bestReqPerSec / row(rows, 'off').bestReqPerSec).toFixed(3),
  httpBest100VsOtel100: +(row(rows, '100 %').bestReqPerSec / row(rows, 'OTel').bestReqPerSec).toFixed(2),
  httpBestCpu03VsAlsOnly: +(row(rows, 'als only').bestServerCpuUsPerReq / row(rows, '0.3 %').bestServerCpuUsPerReq).toFixed(3),
  httpBestCpu100VsOff: +(row(rows, 'off').bestServerCpuUsPerReq / row(rows, '100 %').bestServerCpuUsPerReq).toFixed(3),
  httpBestCpu100VsOtel100: +(row(rows, 'OTel').bestServerCpuUsPerReq / row(rows, '100 %').bestServerCpuUsPerReq).toFixed(2),
});

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
  httpOtherNode: httpOther ? { node: otherNodeVersion, http: httpOther, ratios: httpRatios(httpOther) } : undefined,
  httpLoadGenerator: loadGenerator,
  ratios: {
    sampledSpanVsOtelNoop: +(ours.cpuUs / otelNoop.cpuUs).toFixed(3),
    sampledSpanVsOtelZipkinJson: +(ours.cpuUs / by(spans.sampled, 'otel-sdk+zipkin').cpuUs).toFixed(3),
    sampledSpanVsZipkinJs: +(ours.cpuUs / by(spans.sampled, 'zipkin-js').cpuUs).toFixed(3),
    sampledSpanPathVsOtelNoopPath: +(ours.pathUs / otelNoop.pathUs).toFixed(3),
    unsampledSpanVsOtel: +(by(spans.unsampled, 'pintrace').cpuUs / by(spans.unsampled, 'otel-sdk').cpuUs).toFixed(3),
    ...httpRatios(http),
  },
  loadAfter: loadavg().map((x) => +x.toFixed(2)),
};
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(new URL('./results.svg', import.meta.url), renderChart(results));
console.table(spans.sampled);
console.table(spans.unsampled);
console.table(request);
console.table(bareSpan);
console.table(http.map(({ rounds, ...r }) => r));
if (httpOther) console.table(httpOther.map(({ rounds, ...r }) => r));
console.log(results.ratios);
