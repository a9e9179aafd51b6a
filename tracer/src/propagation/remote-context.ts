import { createContextKey, type SpanContext } from '@opentelemetry/api';
import type { SamplingState } from '@pintrace/sampler';

/**
 * What B3 carries beyond an OTel SpanContext, kept beside the remote SpanContext object the B3
 * propagator created: the exact sampling state (OTel flags cannot tell "deny" from "defer", nor
 * carry debug) and the caller's parent span id (needed to join a server span to the caller's
 * client span, Zipkin style). Contexts from other propagators have no entry.
 */
export interface B3RemoteDetails {
  readonly sampling: SamplingState | undefined;
  readonly parentSpanId: string | undefined;
}

/** Kept under a symbol on the SpanContext object the propagator created (cheaper than a WeakMap). */
const DETAILS = Symbol('pintrace.b3.details');
type WithDetails = SpanContext & { [DETAILS]?: B3RemoteDetails };

export function setB3Details(spanContext: SpanContext, value: B3RemoteDetails): void {
  (spanContext as WithDetails)[DETAILS] = value;
}

export function getB3Details(spanContext: SpanContext): B3RemoteDetails | undefined {
  return (spanContext as WithDetails)[DETAILS];
}

/**
 * A sampling decision that arrived without ids (`b3: 0`, or only X-B3-Sampled): the next root span
 * created in this context honours it.
 */
export const SAMPLING_ONLY_KEY = createContextKey('pintrace.b3.samplingOnly');
