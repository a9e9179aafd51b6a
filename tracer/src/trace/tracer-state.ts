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
  readonly limits: SpanLimits;
  readonly logger: DiagnosticLogger;
  /** False after shutdown: new spans are not recorded. */
  active: boolean;
}
