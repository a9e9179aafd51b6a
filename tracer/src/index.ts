export { startTracing } from './start-tracing.js';
export type { TracingOptions, Tracing } from './start-tracing.js';
export { currentTraceId, currentSpanId } from './current-trace.js';
export { tracingOptionsFromEnv, parseResourceAttributes, parseSampler, parsePropagators } from './otel-env.js';
export type { EnvTracingConfig } from './otel-env.js';

export { PintraceTracerProvider } from './trace/tracer-provider.js';
export type { TracerProviderOptions } from './trace/tracer-provider.js';
export { PintraceTracer } from './trace/tracer.js';
export { RecordingSpan } from './trace/recording-span.js';
export type { FinishedSpan, SpanEvent } from './trace/finished-span.js';
export type { SpanSink } from './trace/span-sink.js';
export type { SpanLimits } from './trace/tracer-state.js';

export { AsyncLocalContextManager } from './context/async-local-context-manager.js';

export { B3Propagator } from './propagation/b3-propagator.js';
export type { B3PropagatorOptions, B3InjectEncoding } from './propagation/b3-propagator.js';
export { B3_HEADERS, parseB3Single, parseB3Multi, formatB3Single, formatB3Multi } from './propagation/b3-codec.js';
export type { B3Context, B3Extracted, B3MultiValues } from './propagation/b3-codec.js';
export { TraceContextPropagator } from './propagation/trace-context-propagator.js';
export { W3C_HEADERS, parseTraceParent, formatTraceParent } from './propagation/w3c-codec.js';
export type { TraceParent } from './propagation/w3c-codec.js';
export { HttpPropagator } from './propagation/http-propagator.js';
export type { HttpPropagatorOptions } from './propagation/http-propagator.js';

export { instrumentHttp } from './http/instrument-http.js';
export { instrumentFetch } from './http/instrument-fetch.js';
export type { FetchInstrumentationOptions, UndiciRequest } from './http/instrument-fetch.js';
export { traceIncoming, traceRequestListener } from './http/http-server.js';
export { wrapRequest, getFrom } from './http/http-client.js';
export type { RequestFunction } from './http/http-client.js';
export { HTTP_TAGS } from './http/http-tracing.js';
export type { HttpTracing, HttpServerOptions, HttpClientOptions, HttpInstrumentationOptions } from './http/http-tracing.js';

export { SpanLogger } from './export/span-logger.js';
export type { SpanLoggerOptions, SpanLoggerStats } from './export/span-logger.js';
export { InMemorySpanSink } from './export/in-memory-span-sink.js';
export { toZipkinSpan } from './zipkin/to-zipkin.js';

export { toZipkinTraceId, toOtelTraceId } from './ids.js';
export { stderrLogger, silentLogger } from './diagnostics.js';
export type { DiagnosticLogger } from './diagnostics.js';
export { TracingConfigError } from './errors.js';
export type { TracerErrorCode } from './errors.js';

export { createTTwitterConnection, TTwitterConnection } from './thrift/ttwitter-client.js';
export type { TTwitterClientOptions } from './thrift/ttwitter-client.js';
export { createTTwitterServer } from './thrift/ttwitter-server.js';
export type { TTwitterServerOptions, ThriftProcessor, ThriftService } from './thrift/ttwitter-server.js';
export { THRIFT_TAGS } from './thrift/thrift-tracing.js';
export type { ThriftTracing } from './thrift/thrift-tracing.js';
export { CAN_TRACE_METHOD } from './thrift/tracing-headers.js';
export type { TTwitterTrace } from './thrift/tracing-headers.js';
export type { ThriftModule, ThriftProtocolClass, ThriftTransportClass, ThriftFraming } from './thrift/thrift-module.js';

export { traceMemcacheClient, MEMCACHE_TAGS } from './memcache/memcache-tracing.js';
export type { MemcacheTracing, MemcacheTracingOptions, MemcacheClientLike } from './memcache/memcache-tracing.js';
