import type { Attributes } from '@opentelemetry/api';
import type { Endpoint } from '@pintrace/model';
import type { Sampler } from '@pintrace/sampler';
import type { DiagnosticLogger } from '../diagnostics.js';
import type { SpanSink } from './span-sink.js';

/** Limits on what one span records; beyond them data is dropped and counted. */
export interface SpanLimits {
  /** Default 128. */
  maxAttributes: number;
  /** Default 128. */
  maxEvents: number;
}

/** What every tracer of one provider shares. */
export interface TracerState {
  readonly localEndpoint: Endpoint;
  readonly sampler: Sampler;
  readonly sink: SpanSink;
  readonly traceId128Bit: boolean;
  /** A server span joining a B3 context reuses the caller's span id (Zipkin/Brave convention). */
  readonly joinServerSpans: boolean;
  /**
   * True (default): a child follows its parent's sampling decision and only roots ask the sampler
   * (OTel's `parentbased_*`). False: every span asks the sampler (OTel's `always_on`,
   * `always_off`, `traceidratio`), whatever the parent decided.
   */
  readonly parentBased: boolean;
  /** Resource attributes (OTEL_RESOURCE_ATTRIBUTES), written as tags on every span at its end. */
  readonly resourceAttributes: Attributes | undefined;
  readonly limits: SpanLimits;
  readonly logger: DiagnosticLogger;
  /** False after shutdown: new spans are not recorded. */
  active: boolean;
}
