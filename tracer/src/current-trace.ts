import { context, trace } from '@opentelemetry/api';
import { toZipkinTraceId } from './ids.js';

/**
 * The trace id of the active span as Zipkin shows it (16 or 32 lower-hex), for logs and responses;
 * undefined outside a span.
 */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && trace.isSpanContextValid(spanContext) ? toZipkinTraceId(spanContext.traceId) : undefined;
}

/** The span id of the active span; undefined outside a span. */
export function currentSpanId(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.spanId : undefined;
}
