/**
 * The tracers compared in bench/tracer, each set up to do the same job: start a span, set one
 * attribute, end it, and (for a sampled span) get it encoded as Zipkin-style JSON into a file.
 * Peers are loaded from the tracer workspace's dependencies (the versions its tests use).
 */
import { appendFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const here = new URL('.', import.meta.url);
const require = createRequire(new URL('../../tracer/package.json', here));
const ours = await import(pathToFileURL(new URL('../../tracer/dist/index.js', here).pathname).href);
const sampler = await import(pathToFileURL(new URL('../../sampler/dist/index.js', here).pathname).href);
const api = require('@opentelemetry/api');
const otel = require('@opentelemetry/sdk-trace-base');
const zipkin = require('zipkin');

export const versions = {
  node: process.version,
  '@opentelemetry/sdk-trace-base': require('@opentelemetry/sdk-trace-base/package.json').version,
  zipkin: require('zipkin/package.json').version,
};

const spanDir = () => mkdtempSync(join(tmpdir(), 'bench-tracer-'));

/** Ours: startTracing with the real span logger (encode once + append to <dir>/<svc>.jsonl). */
export function pintrace(rate) {
  const dir = spanDir();
  const tracing = ours.startTracing({
    serviceName: 'bench',
    spansDir: dir,
    sampler: new sampler.ProbabilisticSampler(rate),
    registerGlobal: false,
    logger: ours.silentLogger,
    spanLogger: { maxQueue: 262_144, maxBatch: 4096, flushIntervalMs: 200 },
  });
  const tracer = tracing.tracer;
  return {
    name: 'pintrace',
    one(i) {
      const span = tracer.startSpan('op');
      span.setAttribute('i', i);
      span.end();
    },
    flush: () => tracing.flush(),
    stats: () => tracing.spanLogger.stats(),
    close: () => tracing.shutdown(),
  };
}

/** OpenTelemetry JS SDK: BasicTracerProvider + BatchSpanProcessor over an exporter. */
export function otelSdk(rate, { encode }) {
  const dir = spanDir();
  const file = join(dir, 'otel.jsonl');
  let exported = 0;
  const exporter = {
    export(spans, done) {
      exported += spans.length;
      if (encode) {
        // the Zipkin v2 JSON a Zipkin exporter would build, appended like our span file
        let text = '';
        for (const s of spans) text += `${JSON.stringify(toZipkinLike(s))}\n`;
        appendFileSync(file, text);
      }
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  };
  const samplerImpl = rate >= 100 ? new otel.AlwaysOnSampler() : new otel.TraceIdRatioBasedSampler(rate / 100);
  const processor = new otel.BatchSpanProcessor(exporter, { maxQueueSize: 65536, maxExportBatchSize: 4096, scheduledDelayMillis: 200 });
  const provider = new otel.BasicTracerProvider({ sampler: samplerImpl, spanProcessors: [processor] });
  const tracer = provider.getTracer('bench');
  return {
    name: encode ? 'otel-sdk+zipkin-json' : 'otel-sdk (no-op exporter)',
    one(i) {
      const span = tracer.startSpan('op');
      span.setAttribute('i', i);
      span.end();
    },
    flush: () => provider.forceFlush(),
    stats: () => ({ written: exported }),
    close: () => provider.shutdown(),
  };
}

function toZipkinLike(s) {
  const ctx = s.spanContext();
  const tags = {};
  for (const k in s.attributes) tags[k] = String(s.attributes[k]);
  const startUs = s.startTime[0] * 1e6 + Math.floor(s.startTime[1] / 1e3);
  const durUs = s.duration[0] * 1e6 + Math.floor(s.duration[1] / 1e3);
  return {
    traceId: ctx.traceId,
    parentId: s.parentSpanContext?.spanId,
    id: ctx.spanId,
    name: s.name,
    timestamp: startUs,
    duration: durUs || 1,
    localEndpoint: { serviceName: 'bench' },
    tags,
  };
}

/** zipkin-js: Tracer + BatchRecorder, spans JSON_V2-encoded and appended in batches. */
export function zipkinJs(rate) {
  const dir = spanDir();
  const file = join(dir, 'zipkin.jsonl');
  let pending = '';
  let written = 0;
  const recorder = new zipkin.BatchRecorder({
    logger: {
      logSpan: (span) => {
        pending += `${zipkin.jsonEncoder.JSON_V2.encode(span)}\n`;
        written++;
      },
    },
    timeout: 60_000_000,
  });
  const tracer = new zipkin.Tracer({
    ctxImpl: new zipkin.ExplicitContext(),
    recorder,
    localServiceName: 'bench',
    sampler: new zipkin.sampler.CountingSampler(rate / 100),
  });
  const writePending = () => {
    if (pending) appendFileSync(file, pending);
    pending = '';
  };
  const timer = setInterval(writePending, 200);
  return {
    name: 'zipkin-js',
    one(i) {
      tracer.local('op', () => {
        tracer.recordBinary('i', String(i));
      });
    },
    flush: async () => writePending(),
    stats: () => ({ written }),
    close: async () => {
      clearInterval(timer);
      writePending();
    },
  };
}

export { ours, sampler, api };
