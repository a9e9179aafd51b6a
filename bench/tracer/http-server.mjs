/**
 * The HTTP server of the throughput bench, run as its own process:
 *   node bench/tracer/http-server.mjs off|als|floor|otel|<percent>
 * `off` = no tracer loaded; `als` = no tracer, each request handled inside
 * AsyncLocalStorage.run (what any context propagation costs on this Node); `floor` = AsyncLocalStorage
 * plus one sampled span of ours per request, node:http not patched; `line` = no tracer, each
 * request inside AsyncLocalStorage.run with a response 'close' listener that reads the clock and
 * appends one constant Zipkin span line (no ids made, nothing encoded) to a span file: a bound on
 * what any tracer that writes a line per request from such a listener can cost; `otel` = the OpenTelemetry JS
 * SDK and its HTTP instrumentation at 100 %, no-op exporter; a percent = startTracing
 * with that sample rate (node:http patched globally, spans to a span file in a temp dir, as a
 * service would run). Prints "listening <port>".
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, openSync, write } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const mode = process.argv[2] ?? 'off';
let tracing;
let context, trace, SpanKind;
let otelExported = 0;
let otelProvider;
if (mode === 'floor') {
  // The least our tracer does per request with automatic context: one sampled span (started,
  // tagged, ended, encoded and appended to the span file) and the handler run in its context
  // (AsyncLocalStorage); no header parsing, no request/response binding, node:http unpatched.
  const { startTracing, silentLogger } = await import(new URL('../../tracer/dist/index.js', import.meta.url).href);
  tracing = startTracing({
    serviceName: 'bench-http',
    spansDir: mkdtempSync(join(tmpdir(), 'bench-http-')),
    sampleRate: 100,
    logger: silentLogger,
    dev: false,
    instrumentHttp: false,
    instrumentFetch: false,
  });
  ({ context, trace, SpanKind } = createRequire(new URL('../../tracer/package.json', import.meta.url))('@opentelemetry/api'));
} else if (mode === 'otel') {
  // The peer: the OpenTelemetry JS SDK with its HTTP instrumentation at 100 % (NodeTracerProvider,
  // AsyncLocalStorage context, BatchSpanProcessor over a no-op exporter: no encoding, no file).
  const peer = createRequire(new URL('../../tracer/package.json', import.meta.url));
  const { NodeTracerProvider } = peer('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor, AlwaysOnSampler } = peer('@opentelemetry/sdk-trace-base');
  const { HttpInstrumentation } = peer('@opentelemetry/instrumentation-http');
  const { registerInstrumentations } = peer('@opentelemetry/instrumentation');
  const exporter = {
    export: (spans, done) => {
      otelExported += spans.length;
      done({ code: 0 });
    },
    shutdown: async () => undefined,
  };
  const provider = new NodeTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 65_536, maxExportBatchSize: 4096 })],
  });
  provider.register();
  otelProvider = provider;
  registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
  createRequire(import.meta.url)('node:http'); // the instrumentation patches node:http when it is required
} else if (mode !== 'off' && mode !== 'als' && mode !== 'line') {
  const { startTracing, silentLogger } = await import(new URL('../../tracer/dist/index.js', import.meta.url).href);
  tracing = startTracing({
    serviceName: 'bench-http',
    spansDir: mkdtempSync(join(tmpdir(), 'bench-http-')),
    sampleRate: Number(mode),
    logger: silentLogger,
    dev: false,
  });
}
const body = JSON.stringify({ ok: true, items: [1, 2, 3] });
const handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
const storage = mode === 'als' ? new AsyncLocalStorage() : undefined;
const floor = (req, res) => {
  const span = tracing.tracer.startSpan('get', { kind: SpanKind.SERVER, attributes: { 'http.method': 'GET', 'http.path': '/' } });
  res.on('close', () => {
    span.setAttribute('http.status_code', '200');
    span.end();
  });
  context.with(trace.setSpan(context.active(), span), handler, undefined, req, res);
};
// `line`: the span file gets the same line for every request, appended as our span logger does
// (into a buffer, written every 200 ms)
let lineRequest;
if (mode === 'line') {
  const line = Buffer.from(
    `${JSON.stringify({
      traceId: '463ac35c9f6413ad48485a3953bb6124',
      id: '48485a3953bb6124',
      kind: 'SERVER',
      name: 'get',
      timestamp: 1764900000000000,
      duration: 123,
      localEndpoint: { serviceName: 'bench-http', ipv4: '10.0.0.1' },
      remoteEndpoint: { ipv4: '127.0.0.1', port: 43210 },
      tags: { 'http.method': 'GET', 'http.path': '/', 'http.status_code': '200' },
    })}\n`,
  );
  const fd = openSync(join(mkdtempSync(join(tmpdir(), 'bench-http-')), 'bench-http.jsonl'), 'a');
  let batch = Buffer.allocUnsafe(1 << 20);
  let used = 0;
  let writing = false;
  const flush = () => {
    if (writing || used === 0) return;
    writing = true;
    const full = batch.subarray(0, used);
    batch = Buffer.allocUnsafe(1 << 20);
    used = 0;
    write(fd, full, 0, full.length, null, () => {
      writing = false;
    });
  };
  setInterval(flush, 200).unref();
  const lineStorage = new AsyncLocalStorage();
  lineRequest = (req, res) => {
    const start = performance.now();
    res.on('close', () => {
      // the duration is read as a span's would be, and dropped: the line stays constant
      if (performance.now() < start) return;
      if (used + line.length > batch.length) flush();
      if (used + line.length <= batch.length) used += line.copy(batch, used);
    });
    lineStorage.run({ req }, handler, req, res);
  };
}
const plain = storage ? (req, res) => storage.run({ req }, handler, req, res) : mode === 'floor' ? floor : handler;
const server = http.createServer(lineRequest ?? plain);
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', async () => {
  server.close();
  server.closeAllConnections();
  await otelProvider?.forceFlush();
  const stats = mode === 'otel' ? { exported: otelExported } : tracing?.spanLogger?.stats();
  await tracing?.shutdown();
  process.stdout.write(`stats ${JSON.stringify(stats ?? null)}\n`);
  process.exit(0);
});
