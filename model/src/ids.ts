/**
 * Trace and span id normalisation, as zipkin2.Span.Builder applies it.
 *
 * Grammar: lower-hex = 1*( %x30-39 / %x61-66 ); traceId is 1..32 of them, not all zeros, padded
 * on the left to 16 (if shorter) or 32 (if 17..31); a 32-char id whose high 16 are zeros becomes
 * its low 16. Span id and parent id are 1..16 lower-hex, padded to 16. A parent id of all zeros
 * means "no parent".
 */

/** An id that passed, or the message explaining why it did not. */
export type IdResult = { ok: true; id: string } | { ok: false; message: string };

const ZEROS = '00000000000000000000000000000000';

/** Index of the first char that is not lower-hex, or -1. Also counts leading zeros via the out param. */
function scanHex(id: string): { bad: boolean; allZero: boolean; leadingZeros: number } {
  let leadingZeros = 0;
  let inPrefix = true;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
    if (!hex) return { bad: true, allZero: false, leadingZeros };
    if (c !== 0x30) inPrefix = false;
    else if (inPrefix) leadingZeros++;
  }
  return { bad: false, allZero: leadingZeros === id.length, leadingZeros };
}

function notHex(id: string): string {
  const shown = id.length <= 64 ? id : `${id.slice(0, 64)}...`;
  return `${shown} should be lower-hex encoded with no prefix`;
}

/** Normalises a trace id (16 or 32 lower-hex on success). */
export function normalizeTraceId(traceId: string): IdResult {
  const length = traceId.length;
  if (length === 0) return { ok: false, message: 'traceId is empty' };
  if (length > 32) return { ok: false, message: 'traceId.length > 32' };
  const scan = scanHex(traceId);
  if (scan.bad) return { ok: false, message: notHex(traceId) };
  if (scan.allZero) return { ok: false, message: 'traceId is all zeros' };
  if (length === 32) return { ok: true, id: scan.leadingZeros >= 16 ? traceId.slice(16) : traceId };
  if (length === 16) return { ok: true, id: traceId };
  return { ok: true, id: ZEROS.slice(0, (length < 16 ? 16 : 32) - length) + traceId };
}

/** Normalises a span id (16 lower-hex on success). All zeros is invalid. */
export function normalizeSpanId(id: string, field = 'id'): IdResult {
  const length = id.length;
  if (length === 0) return { ok: false, message: `${field} is empty` };
  if (length > 16) return { ok: false, message: `${field}.length > 16` };
  const scan = scanHex(id);
  if (scan.bad) return { ok: false, message: notHex(id) };
  if (scan.allZero) return { ok: false, message: `${field} is all zeros` };
  return { ok: true, id: length === 16 ? id : ZEROS.slice(0, 16 - length) + id };
}

/**
 * Normalises a parent id. All zeros means absent, signalled by `id: undefined`.
 */
export function normalizeParentId(parentId: string): { ok: true; id: string | undefined } | { ok: false; message: string } {
  const result = normalizeSpanId(parentId, 'parentId');
  if (!result.ok && result.message === 'parentId is all zeros') return { ok: true, id: undefined };
  return result;
}

/** True if `id` is already a normalised trace id (16 or 32 lower-hex, not all zeros). */
export function isTraceId(id: string): boolean {
  if (id.length !== 16 && id.length !== 32) return false;
  const result = normalizeTraceId(id);
  return result.ok && result.id === id;
}
