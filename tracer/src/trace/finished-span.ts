import type { Attributes, SpanKind, SpanStatus } from '@opentelemetry/api';
import type { Endpoint } from '@pintrace/model';

/** An event recorded on a span: becomes a Zipkin annotation. */
export interface SpanEvent {
  readonly name: string;
  /** Epoch microseconds. */
  readonly timestampMicros: number;
  readonly attributes?: Attributes;
}

/**
 * A finished, sampled span as the tracer hands it to a {@link SpanSink}: the raw recorded data,
 * not yet converted to Zipkin (conversion and encoding happen off the request path).
 */
export interface FinishedSpan {
  /** OTel form: 32 lower-hex (high half zero for a 64-bit trace id). */
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  /** Epoch microseconds. */
  readonly startMicros: number;
  /** Microseconds, at least 1. */
  readonly durationMicros: number;
  readonly attributes: Attributes;
  readonly events: readonly SpanEvent[];
  readonly status: SpanStatus;
  readonly debug: boolean;
  /** True for a server span that joined the caller's span id. */
  readonly shared: boolean;
  readonly localEndpoint: Endpoint;
  /**
   * Tracer-made ids also exist as hex bytes (see ids.ts lastIdBytes): where the trace id's Zipkin
   * form (16 or 32 characters, `traceIdHexLength`) and the span id (16) start. The encoder copies
   * them instead of reading the strings; undefined for ids that arrived from elsewhere.
   */
  readonly traceIdHex?: Buffer;
  readonly traceIdHexAt?: number;
  readonly traceIdHexLength?: number;
  readonly spanIdHex?: Buffer;
  readonly spanIdHexAt?: number;
}
