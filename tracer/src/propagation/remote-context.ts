import { createContextKey, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';
import type { SamplingState } from '@pintrace/sampler';
import { toOtelTraceId } from '../ids.js';

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

/** A Zipkin caller's ids and sampling, as B3 headers and TTwitter's RequestHeader carry them. */
export interface ZipkinRemoteParent {
  /** 16 or 32 lower-hex. */
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  /** Absent: the caller has not decided. */
  readonly sampling?: SamplingState;
}

/** `context` with the caller as the remote parent, its sampling and parent id kept as B3 details. */
export function withRemoteParent(context: Context, remote: ZipkinRemoteParent): Context {
  const spanContext: SpanContext = {
    traceId: toOtelTraceId(remote.traceId),
    spanId: remote.spanId,
    isRemote: true,
    traceFlags: remote.sampling === 'accept' || remote.sampling === 'debug' ? TraceFlags.SAMPLED : TraceFlags.NONE,
  };
  setB3Details(spanContext, { sampling: remote.sampling, parentSpanId: remote.parentSpanId });
  return trace.setSpanContext(context, spanContext);
}

/**
 * A sampling decision that arrived without ids (`b3: 0`, or only X-B3-Sampled): the next root span
 * created in this context honours it.
 */
export const SAMPLING_ONLY_KEY = createContextKey('pintrace.b3.samplingOnly');
