// An OpenTelemetry-SDK instrumented HTTP service (NodeTracerProvider + @opentelemetry/instrumentation-http,
// loaded through require so node:http is patched), for interop tests. Env: NAME, SPANS_FILE,
// PROPAGATOR (b3 | b3single | w3c), DOWNSTREAM (optional). Prints "listening <port>" when ready.
// Each finished span is appended to SPANS_FILE as JSON { traceId, id, parentId, kind, name }.
const fs = require('node:fs');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { B3Propagator, B3InjectEncoding } = require('@opentelemetry/propagator-b3');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');

const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const spansFile = process.env.SPANS_FILE;
const exporter = {
  export(spans, done) {
    for (const s of spans) {
      const ctx = s.spanContext();
      const line = {
        traceId: ctx.traceId,
        id: ctx.spanId,
        parentId: s.parentSpanContext?.spanId,
        kind: KINDS[s.kind],
        name: s.name,
        service: process.env.NAME,
      };
      fs.appendFileSync(spansFile, `${JSON.stringify(line)}\n`);
    }
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
const propagators = {
  b3: () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
  b3single: () => new B3Propagator(),
  w3c: () => new W3CTraceContextPropagator(),
};
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register({ propagator: propagators[process.env.PROPAGATOR ?? 'w3c']() });
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });

const http = require('node:http');
const server = http.createServer((req, res) => {
  const headers = { traceparent: req.headers.traceparent ?? null, traceId: req.headers['x-b3-traceid'] ?? req.headers.b3 ?? null };
  const downstream = process.env.DOWNSTREAM;
  const reply = (body) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };
  if (!downstream) return reply({ name: process.env.NAME, headers });
  http
    .get(downstream, (r) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (c) => (text += c));
      r.on('end', () => reply({ name: process.env.NAME, headers, downstream: JSON.parse(text) }));
    })
    .on('error', (err) => reply({ error: String(err) }));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => provider.shutdown().finally(() => server.close(() => process.exit(0))));
