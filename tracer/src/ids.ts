/**
 * Trace and span ids. Inside the OpenTelemetry API a trace id is always 32 lower-hex characters
 * (so any OTel library sees a valid context); a 64-bit trace id is held there left-padded with 16
 * zeros. On the wire (B3) and in Zipkin spans it is written the way Zipkin and Brave write it: 16
 * characters when the high 64 bits are zero, 32 otherwise. A 64-bit id that arrived is therefore
 * never padded on the way out.
 */

import { randomFillSync } from 'node:crypto';

const ZERO_HIGH = '0000000000000000';
const IDS_PER_POOL = 256;

/**
 * Random ids are slices of pool strings: one native random fill and one hex string per 256 ids.
 * Every id is a slice of a flat string (a concatenated id, a V8 cons string, made each later
 * charCodeAt, as in the span encoder, walk the rope). An entry is 32 characters: 16 zeros and
 * 16 random hex (a 64-bit trace id in OTel form, whose low half is also a span id), or, in the
 * 128-bit pool, 32 random hex.
 *
 * Native code makes the pool (crypto's fill, Buffer's hex): a JavaScript loop writing the hex
 * digits ran once per 256 requests and cost an unsampled request more than the rest of its span.
 */
class IdPool {
  /** A new buffer per refill: spans keep pointing into the old one (see lastIdBytes). */
  private hex = Buffer.allocUnsafe(0);
  private text = '';
  private offset = 0;
  /** The 16 bytes behind each entry's 32 hex characters. */
  private random = new DataView(new ArrayBuffer(0));

  constructor(private readonly randomBytesPerId: 8 | 16) {}

  /** The next 32-character entry; lastIdBytes/lastIdAt point at its first hex byte. */
  next(): string {
    this.reserve();
    return this.text.slice(lastIdTextAt, lastIdTextAt + 32);
  }

  /** Takes the next entry without slicing it: sets every `lastId*` binding. */
  reserve(): void {
    let high: number;
    let low: number;
    let at: number;
    do {
      if (this.offset >= this.text.length) this.refill();
      at = this.offset;
      this.offset += 32;
      // two hex characters per byte: the entry's low 64 bits are its bytes 8 to 15
      high = this.random.getUint32((at >> 1) + 8);
      low = this.random.getUint32((at >> 1) + 12);
      // the low 64 bits are a span id, which must not be zero (a chance of 2^-64)
    } while (high === 0 && low === 0);
    // the pool's text and bytes are young objects stored into a module binding, which takes
    // the write barrier's slow path: stored once per refill, not once per id
    if (lastIdBytes !== this.hex) lastIdBytes = this.hex;
    if (lastIdText !== this.text) lastIdText = this.text;
    lastIdAt = at + 32 - 2 * this.randomBytesPerId;
    lastIdTextAt = at;
    lastIdWords.high = high;
    lastIdWords.low = low;
  }

  /**
   * Ids need to be unique, not secret, but one fill from the crypto generator per 256 ids costs
   * less than Math.random did, written into hex by a loop.
   */
  private refill(): void {
    const bytes = new Uint8Array(IDS_PER_POOL * 16);
    randomFillSync(bytes);
    if (this.randomBytesPerId === 8) {
      // a 64-bit id in OTel form: the high 8 bytes of each entry are zero
      const words = new Uint32Array(bytes.buffer);
      for (let word = 0; word < words.length; word += 4) {
        words[word] = 0;
        words[word + 1] = 0;
      }
    }
    this.text = Buffer.from(bytes.buffer).toString('hex');
    this.hex = Buffer.from(this.text, 'latin1');
    this.random = new DataView(bytes.buffer);
    this.offset = 0;
  }
}

/**
 * Where the hex characters of the id just made by newSpanId/newTraceId sit as bytes, in its
 * Zipkin form (a 64-bit trace id: its 16 low characters): the span encoder copies these bytes
 * instead of reading the id string back character by character, which cost more than the rest
 * of an id's encoding. Read it right after the call; the bytes stay valid as long as referenced.
 */
export let lastIdBytes: Buffer = Buffer.alloc(0);
export let lastIdAt = 0;
/**
 * The id just taken by newSpanId/newTraceId/reserveTraceId as characters `lastIdTextAt` to
 * `lastIdTextAt + 32` of `lastIdText` (its OTel trace id form; the last 16 are its span id form).
 */
export let lastIdText = '';
export let lastIdTextAt = 0;
/**
 * The low 64 bits of the id just taken, as unsigned 32-bit halves. Fields of one object, where
 * V8 keeps a number as a double in place (made with fractions, so they hold doubles from the
 * start): a module binding boxed each half above 2^30 in a new heap number per id, stored through
 * the write barrier's slow path.
 */
export const lastIdWords = { high: 0.5, low: 0.5 };

const pool64 = new IdPool(8);
let pool128: IdPool | undefined;

/** A new random 64-bit span id (16 lower-hex, never all zeros). */
export function newSpanId(): string {
  return pool64.next().slice(16);
}

/**
 * A new trace id in OTel form (32 lower-hex); its high half is zero unless `bits128`. Its low
 * half is random and not all zeros, so a root span may take it as its span id, as Brave does.
 */
export function newTraceId(bits128: boolean): string {
  return bits128 ? (pool128 ??= new IdPool(16)).next() : pool64.next();
}

/**
 * Takes a new trace id (as newTraceId) without making its string: read it from the `lastId*`
 * bindings. A root decides its sampling from the random words, and only a trace that is sampled
 * or whose context is read pays for the id's string.
 */
export function reserveTraceId(bits128: boolean): void {
  (bits128 ? (pool128 ??= new IdPool(16)) : pool64).reserve();
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
