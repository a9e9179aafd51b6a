// A zipkin-js instrumented HTTP service (express + zipkin-instrumentation-express, outgoing calls
// with zipkin-instrumentation-fetch), for interop tests. Env: NAME, SPANS_FILE, DOWNSTREAM (optional).
// Prints "listening <port>" when ready. Each finished span is appended to SPANS_FILE as Zipkin v2 JSON.
const fs = require('node:fs');
const express = require('express');
const { Tracer, BatchRecorder, ExplicitContext, jsonEncoder, sampler } = require('zipkin');
const { expressMiddleware } = require('zipkin-instrumentation-express');
const wrapFetch = require('zipkin-instrumentation-fetch');

const name = process.env.NAME;
const spansFile = process.env.SPANS_FILE;
const recorder = new BatchRecorder({
  logger: { logSpan: (span) => fs.appendFileSync(spansFile, `${jsonEncoder.JSON_V2.encode(span)}\n`) },
  timeout: 100_000,
});
const tracer = new Tracer({ ctxImpl: new ExplicitContext(), recorder, localServiceName: name, sampler: new sampler.Sampler(sampler.alwaysSample) });
const tracedFetch = wrapFetch(fetch, { tracer, remoteServiceName: 'downstream' });

const app = express();
app.use(expressMiddleware({ tracer }));
app.get('/', (req, res) => {
  const downstream = process.env.DOWNSTREAM;
  const headers = { b3: req.header('b3') ?? null, traceId: req.header('x-b3-traceid') ?? null };
  if (!downstream) return res.json({ name, headers });
  tracedFetch(downstream)
    .then((r) => r.json())
    .then(
      (body) => res.json({ name, headers, downstream: body }),
      (err) => res.status(502).json({ name, error: String(err) }),
    );
});
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
