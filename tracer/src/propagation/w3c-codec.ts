/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/). Pure parsing and
 * formatting; nothing here throws.
 *
 *   traceparent = [OWS] version "-" trace-id "-" parent-id "-" trace-flags [ "-" future ] [OWS]
 *   version     = 2HEXLOWER          ; not "ff"
 *   trace-id    = 32HEXLOWER         ; not all zeros
 *   parent-id   = 16HEXLOWER         ; not all zeros
 *   trace-flags = 2HEXLOWER          ; bit 0 (01) = sampled
 *   future      = *CHAR              ; only allowed when version is not "00"
 *   OWS         = one optional whitespace character at either end (as OpenTelemetry accepts)
 *
 * Upper-case hex, a missing field, a wrong length or extra fields on version 00 are malformed and
 * yield `undefined`.
 */
export interface TraceParent {
  /** 32 lower-hex. */
  readonly traceId: string;
  /** 16 lower-hex: the caller's span id. */
  readonly parentId: string;
  /** The trace-flags byte; `& 1` = sampled. */
  readonly flags: number;
}

export const W3C_HEADERS = { traceparent: 'traceparent', tracestate: 'tracestate' } as const;

const WHITESPACE = /\s/;

/** Parses a `traceparent` header value. */
export function parseTraceParent(value: string): TraceParent | undefined {
  if (typeof value !== 'string') return undefined;
  let start = 0;
  let end = value.length;
  if (end > 0 && WHITESPACE.test(value[0])) start = 1;
  if (end > start && WHITESPACE.test(value[end - 1])) end--;
  // version(2) - trace-id(32) - parent-id(16) - flags(2) = 55 characters
  if (end - start < 55) return undefined;
  const version = hexAt(value, start, 2);
  if (version < 0 || version === 0xff || value[start + 2] !== '-') return undefined;
  const traceStart = start + 3;
  if (!isHexId(value, traceStart, 32) || value[traceStart + 32] !== '-') return undefined;
  const parentStart = traceStart + 33;
  if (!isHexId(value, parentStart, 16) || value[parentStart + 16] !== '-') return undefined;
  const flags = hexAt(value, parentStart + 17, 2);
  if (flags < 0) return undefined;
  const rest = start + 55;
  if (rest < end) {
    // extra fields: only a later version may have them, and they must start with "-"
    if (version === 0 || value[rest] !== '-') return undefined;
  }
  return {
    traceId: value.slice(traceStart, traceStart + 32),
    parentId: value.slice(parentStart, parentStart + 16),
    flags,
  };
}

/** Formats a version-00 `traceparent`. */
export function formatTraceParent(traceId: string, parentId: string, sampled: boolean): string {
  return `00-${traceId}-${parentId}-${sampled ? '01' : '00'}`;
}

/** Lower-hex characters [from, from+length) as a number, or -1. */
function hexAt(text: string, from: number, length: number): number {
  if (from + length > text.length) return -1;
  let value = 0;
  for (let i = from; i < from + length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) value = value * 16 + (c - 0x30);
    else if (c >= 0x61 && c <= 0x66) value = value * 16 + (c - 0x57);
    else return -1;
  }
  return value;
}

/** `length` lower-hex characters at `from`, not all zeros. */
function isHexId(text: string, from: number, length: number): boolean {
  if (from + length > text.length) return false;
  let nonZero = false;
  for (let i = from; i < from + length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x31 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) nonZero = true;
    else if (c !== 0x30) return false;
  }
  return nonZero;
}
