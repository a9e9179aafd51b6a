/**
 * Added work per unsampled request: what the HTTP server instrumentation does for a request whose
 * trace is not sampled (extract B3/W3C headers, decide, a non-recording span, run the handler in
 * its context, bind req/res listeners), measured against the same handler call without tracing.
 * Request and response are node:http's own IncomingMessage and ServerResponse (raw headers as a
 * client sends them, no socket I/O), so only the tracer's work differs. Also: a bare unsampled root span (start + end), ours vs OpenTelemetry's SDK.
 *
 *   node bench/tracer/unsampled-request.mjs
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { otelSdk, ours, pintrace, sampler } from './peers.mjs';

const N = 300_000;
const ROUNDS = 7;

const socket = new Socket();
const COMMON = ['Host', 'localhost:8080', 'User-Agent', 'bench', 'Accept', '*/*'];

/** node:http's own request and response objects, as the server instrumentation sees them. */
function makeReq(headers) {
  const req = new IncomingMessage(socket);
  req.rawHeaders = [...COMMON, ...Object.entries(headers).flat()];
  req.method = 'GET';
  req.url = '/api/items?id=1';
  return req;
}

function cpuPer(fn, n) {
  const before = process.cpuUsage();
  fn(n);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / n; // ns
}

export async function unsampledRequest() {
  const tracing = ours.startTracing({
    serviceName: 'bench',
    sink: new ours.InMemorySpanSink(),
    sampler: new sampler.ProbabilisticSampler(0),
    registerGlobal: false,
    logger: ours.silentLogger,
  });
  const cases = {
    'no headers (root decides: not sampled)': {},
    'B3 deny from upstream': { 'x-b3-traceid': '463ac35c9f6413ad', 'x-b3-spanid': '72485a3953bb6124', 'x-b3-sampled': '0' },
    'W3C not-sampled from upstream': { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' },
  };
  let _sink = 0; // written so the handler does work the engine cannot drop
  const handler = () => {
    _sink++;
  };
  const rows = [];
  for (const [name, headers] of Object.entries(cases)) {
    const base = (n) => {
      for (let i = 0; i < n; i++) {
        const req = makeReq(headers);
        const res = new ServerResponse(req);
        handler(req, res);
      }
    };
    const traced = (n) => {
      for (let i = 0; i < n; i++) {
        const req = makeReq(headers);
        const res = new ServerResponse(req);
        ours.traceIncoming(tracing, req, res, () => handler(req, res));
      }
    };
    base(50_000);
    traced(50_000);
    const added = [];
    for (let r = 0; r < ROUNDS; r++) added.push(cpuPer(traced, N) - cpuPer(base, N));
    added.sort((a, b) => a - b);
    rows.push({ case: name, addedUs: +(added[ROUNDS >> 1] / 1000).toFixed(3), bestUs: +(added[0] / 1000).toFixed(3) });
  }
  await tracing.shutdown();
  return rows;
}

/** A bare unsampled root span: ours vs the OTel SDK (TraceIdRatioBasedSampler(0)). */
export function unsampledSpan() {
  const out = [];
  for (const make of [() => pintrace(0), () => otelSdk(0, { encode: false })]) {
    const t = make();
    const run = (n) => {
      for (let i = 0; i < n; i++) t.one(i);
    };
    run(100_000);
    const samples = [];
    for (let r = 0; r < ROUNDS; r++) samples.push(cpuPer(run, N));
    samples.sort((a, b) => a - b);
    out.push({ tracer: t.name, medianUs: +(samples[ROUNDS >> 1] / 1000).toFixed(3), bestUs: +(samples[0] / 1000).toFixed(3) });
    void t.close();
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await unsampledRequest());
  console.table(unsampledSpan());
}
