/**
 * The HTTP server of the throughput bench, run as its own process:
 *   node bench/tracer/http-server.mjs off|als|floor|otel|<percent>
 * `off` = no tracer loaded; `als` = no tracer, each request handled inside
 * AsyncLocalStorage.run (what any context propagation costs on this Node); `floor` = AsyncLocalStorage
 * plus one sampled span of ours per request, node:http not patched; `otel` = the OpenTelemetry JS
 * SDK and its HTTP instrumentation at 100 %, no-op exporter; a percent = startTracing
 * with that sample rate (node:http patched globally, spans to a span file in a temp dir, as a
 * service would run). Prints "listening <port>".
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
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
} else if (mode !== 'off' && mode !== 'als') {
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
const server = http.createServer(storage ? (req, res) => storage.run({ req }, handler, req, res) : mode === 'floor' ? floor : handler);
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
