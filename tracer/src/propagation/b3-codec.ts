import type { SamplingState } from '@pintrace/sampler';
import { isLowerHexId } from '../ids.js';

/**
 * B3 trace context encoding (openzipkin/b3-propagation). Pure parsing and formatting; nothing here
 * throws. Ids keep their wire form (a 64-bit trace id stays 16 characters).
 *
 * Multi-header grammar (names case-insensitive; the first value of a repeated header wins):
 *   X-B3-TraceId      = 16HEXLOWER / 32HEXLOWER        ; not all zeros
 *   X-B3-SpanId       = 16HEXLOWER                     ; not all zeros
 *   X-B3-ParentSpanId = 16HEXLOWER                     ; optional
 *   X-B3-Sampled      = "1" / "0" / "true" / "false"   ; optional; absent = defer
 *   X-B3-Flags        = "1"                            ; debug; implies sampled, Sampled is then ignored
 *
 * Single-header grammar:
 *   b3 = SamplingState / TraceId "-" SpanId [ "-" SamplingState [ "-" ParentSpanId ] ]
 *   SamplingState = "1" / "0" / "d"
 *
 * Malformed input (wrong length, upper-case or non-hex ids, all-zero ids, an unknown sampling
 * value, extra fields) yields `undefined`; a trace id without a span id (or the reverse) is
 * malformed too. An unknown X-B3-Sampled value is malformed, so the whole header set is ignored,
 * like a garbage id.
 */
export interface B3Context {
  /** 16 or 32 lower-hex, as it arrived. */
  readonly traceId: string;
  /** 16 lower-hex. */
  readonly spanId: string;
  /** 16 lower-hex; absent on a root span. */
  readonly parentSpanId?: string;
  /** Absent means defer. */
  readonly sampling?: SamplingState;
}

/** What a B3 carrier holds: a full context, only a sampling decision, or nothing usable. */
export type B3Extracted = { readonly kind: 'context'; readonly context: B3Context } | { readonly kind: 'sampling'; readonly sampling: SamplingState };

/** Header names, lower-case as the b3 spec recommends for case-sensitive transports. */
export const B3_HEADERS = {
  single: 'b3',
  traceId: 'x-b3-traceid',
  spanId: 'x-b3-spanid',
  parentSpanId: 'x-b3-parentspanid',
  sampled: 'x-b3-sampled',
  flags: 'x-b3-flags',
} as const;

function isTraceId(value: string): boolean {
  return isLowerHexId(value, value.length === 32 ? 32 : 16);
}

function singleSampling(value: string): SamplingState | undefined {
  if (value === '1') return 'accept';
  if (value === '0') return 'deny';
  if (value === 'd') return 'debug';
  return undefined;
}

/** Parses a `b3` header value. */
export function parseB3Single(value: string): B3Extracted | undefined {
  const text = value.trim();
  if (text.length === 1) {
    const sampling = singleSampling(text);
    return sampling === undefined ? undefined : { kind: 'sampling', sampling };
  }
  const parts = text.split('-');
  if (parts.length < 2 || parts.length > 4) return undefined;
  const [traceId, spanId, samplingText, parentSpanId] = parts;
  if (!isTraceId(traceId) || !isLowerHexId(spanId, 16)) return undefined;
  let sampling: SamplingState | undefined;
  if (samplingText !== undefined) {
    sampling = singleSampling(samplingText);
    if (sampling === undefined) return undefined;
  }
  if (parentSpanId !== undefined && !isLowerHexId(parentSpanId, 16)) return undefined;
  return { kind: 'context', context: { traceId, spanId, sampling, parentSpanId } };
}

/** The values of the multi-header form, each the first value of its header or undefined. */
export interface B3MultiValues {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  sampled?: string;
  flags?: string;
}

/** Parses the X-B3-* headers. */
export function parseB3Multi(values: B3MultiValues): B3Extracted | undefined {
  let sampling: SamplingState | undefined;
  const flags = values.flags?.trim();
  const sampled = values.sampled?.trim();
  if (flags === '1') {
    sampling = 'debug';
  } else if (sampled !== undefined) {
    if (sampled === '1' || sampled === 'true') sampling = 'accept';
    else if (sampled === '0' || sampled === 'false') sampling = 'deny';
    else return undefined;
  }
  const traceId = values.traceId?.trim();
  const spanId = values.spanId?.trim();
  if (traceId === undefined && spanId === undefined) {
    return sampling === undefined ? undefined : { kind: 'sampling', sampling };
  }
  if (traceId === undefined || spanId === undefined) return undefined;
  if (!isTraceId(traceId) || !isLowerHexId(spanId, 16)) return undefined;
  const parentSpanId = values.parentSpanId?.trim();
  if (parentSpanId !== undefined && !isLowerHexId(parentSpanId, 16)) return undefined;
  return { kind: 'context', context: { traceId, spanId, parentSpanId, sampling } };
}

/** Formats a `b3` header value. A deferred context has no sampling field and so no parent. */
export function formatB3Single(context: B3Context): string {
  const head = `${context.traceId}-${context.spanId}`;
  if (context.sampling === undefined) return head;
  const state = context.sampling === 'debug' ? 'd' : context.sampling === 'accept' ? '1' : '0';
  return context.parentSpanId === undefined ? `${head}-${state}` : `${head}-${state}-${context.parentSpanId}`;
}

/** Formats the X-B3-* headers (lower-case names). Debug is sent as Flags only, never with Sampled. */
export function formatB3Multi(context: B3Context): Record<string, string> {
  const headers: Record<string, string> = {
    [B3_HEADERS.traceId]: context.traceId,
    [B3_HEADERS.spanId]: context.spanId,
  };
  if (context.parentSpanId !== undefined) headers[B3_HEADERS.parentSpanId] = context.parentSpanId;
  if (context.sampling === 'debug') headers[B3_HEADERS.flags] = '1';
  else if (context.sampling !== undefined) headers[B3_HEADERS.sampled] = context.sampling === 'accept' ? '1' : '0';
  return headers;
}
