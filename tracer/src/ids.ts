import { randomFillSync } from 'node:crypto';

/**
 * Trace and span ids. Inside the OpenTelemetry API a trace id is always 32 lower-hex characters
 * (so any OTel library sees a valid context); a 64-bit trace id is held there left-padded with 16
 * zeros. On the wire (B3) and in Zipkin spans it is written the way Zipkin and Brave write it: 16
 * characters when the high 64 bits are zero, 32 otherwise. A 64-bit id that arrived is therefore
 * never padded on the way out.
 */

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
/** The pool as one hex string: ids are 16-character slices of it (one native call per 512 ids). */
let hexPool = '';
let offset = 0;

const ZERO_HIGH = '0000000000000000';
const ZERO_SPAN_ID = '0000000000000000';

function randomHex8(): string {
  for (;;) {
    if (offset >= hexPool.length) {
      randomFillSync(pool);
      hexPool = pool.toString('hex');
      offset = 0;
    }
    const hex = hexPool.slice(offset, offset + 16);
    offset += 16;
    if (hex !== ZERO_SPAN_ID) return hex;
  }
}

/** A new random 64-bit span id (16 lower-hex, never all zeros). */
export function newSpanId(): string {
  return randomHex8();
}

/** A new trace id in OTel form (32 lower-hex); its high half is zero unless `bits128`. */
export function newTraceId(bits128: boolean): string {
  return bits128 ? randomHex8() + randomHex8() : ZERO_HIGH + randomHex8();
}

/** OTel-form (32-char) trace id from a 16- or 32-char wire id. */
export function toOtelTraceId(wireTraceId: string): string {
  return wireTraceId.length === 16 ? ZERO_HIGH + wireTraceId : wireTraceId;
}

/** Zipkin/B3 form of an OTel trace id: 16 chars when the high 64 bits are zero. */
export function toZipkinTraceId(otelTraceId: string): string {
  return otelTraceId.length === 32 && otelTraceId.startsWith(ZERO_HIGH) ? otelTraceId.slice(16) : otelTraceId;
}

/** True for `length` lower-hex characters that are not all zeros. */
export function isLowerHexId(value: string, length: 16 | 32): boolean {
  if (value.length !== length) return false;
  let nonZero = false;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x61 && c <= 0x66) nonZero = true;
    else if (c >= 0x31 && c <= 0x39) nonZero = true;
    else if (c !== 0x30) return false;
  }
  return nonZero;
}
