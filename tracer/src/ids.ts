/**
 * Trace and span ids. Inside the OpenTelemetry API a trace id is always 32 lower-hex characters
 * (so any OTel library sees a valid context); a 64-bit trace id is held there left-padded with 16
 * zeros. On the wire (B3) and in Zipkin spans it is written the way Zipkin and Brave write it: 16
 * characters when the high 64 bits are zero, 32 otherwise. A 64-bit id that arrived is therefore
 * never padded on the way out.
 */

const ZERO_HIGH = '0000000000000000';
const IDS_PER_POOL = 256;
/** Two lower-hex characters per byte value, as one 16-bit store (in the platform's byte order). */
const HEX_PAIRS = new Uint16Array(256);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
for (let v = 0; v < 256; v++) {
  const high = '0123456789abcdef'.charCodeAt(v >> 4);
  const low = '0123456789abcdef'.charCodeAt(v & 15);
  HEX_PAIRS[v] = LITTLE_ENDIAN ? high | (low << 8) : (high << 8) | low;
}
const ZERO_PAIR = HEX_PAIRS[0];

/**
 * Random ids are slices of pool strings: one native random fill and one string per 256 ids.
 * Every id is a slice of a flat string (a concatenated id, a V8 cons string, made each later
 * charCodeAt, as in the span encoder, walk the rope). An entry is 32 characters: 16 zeros and
 * 16 random hex (a 64-bit trace id in OTel form, whose low half is also a span id), or, in the
 * 128-bit pool, 32 random hex.
 */
class IdPool {
  /** A new buffer per refill: spans keep pointing into the old one (see lastIdBytes). */
  private hex = Buffer.allocUnsafe(0);
  private text = '';
  private offset = 0;

  constructor(private readonly randomBytesPerId: 8 | 16) {}

  /** The next 32-character entry; lastIdBytes/lastIdAt point at its first hex byte. */
  next(): string {
    if (this.offset >= this.text.length) this.refill();
    const at = this.offset;
    this.offset += 32;
    lastIdBytes = this.hex;
    lastIdAt = at + 32 - 2 * this.randomBytesPerId;
    return this.text.slice(at, at + 32);
  }

  /**
   * Ids need to be unique, not secret: like OpenTelemetry JS's id generator, Math.random
   * (xorshift128+) rather than the crypto generator, which cost a fifth of an unsampled span.
   */
  private refill(): void {
    const words = this.randomBytesPerId / 4;
    this.hex = Buffer.allocUnsafe(IDS_PER_POOL * 32);
    const pairs = new Uint16Array(this.hex.buffer, this.hex.byteOffset, this.hex.length / 2);
    for (let id = 0; id < IDS_PER_POOL; id++) {
      const entry = id * 16;
      let at = entry;
      for (let z = words; z < 4; z++) {
        pairs[at++] = ZERO_PAIR;
        pairs[at++] = ZERO_PAIR;
        pairs[at++] = ZERO_PAIR;
        pairs[at++] = ZERO_PAIR;
      }
      let low = 0;
      for (let w = 0; w < words; w++) {
        low = (Math.random() * 0x1_0000_0000) >>> 0;
        pairs[at++] = HEX_PAIRS[low >>> 24];
        pairs[at++] = HEX_PAIRS[(low >>> 16) & 0xff];
        pairs[at++] = HEX_PAIRS[(low >>> 8) & 0xff];
        pairs[at++] = HEX_PAIRS[low & 0xff];
      }
      // the low 64 bits are a span id, which must not be zero: the last word must not be zero
      // with the one before it (a chance of 2^-64; a fixed stand-in keeps this simple)
      if (low === 0 && pairs[entry + 8] === ZERO_PAIR && pairs[entry + 9] === ZERO_PAIR && pairs[entry + 10] === ZERO_PAIR && pairs[entry + 11] === ZERO_PAIR) {
        this.hex[id * 32 + 31] = 0x31;
      }
    }
    this.text = this.hex.toString('latin1');
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
