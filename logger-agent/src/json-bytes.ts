/**
 * The agent's per-line checks on the read bytes themselves: is `bytes[start, end)` one complete
 * JSON text, and what is its top-level trace id's Kafka key. Working on the bytes means no string
 * per line: decoding every line to a string was most of the agent's garbage (GC ~20 % of its CPU)
 * and the string validator needed a regex pass per line on top.
 *
 * Same answers as `JSON.parse(bytes.toString('utf8', start, end))` succeeding: bytes >= 0x80 are
 * only accepted inside strings, where any UTF-8 (or invalid UTF-8, which the decoder would have
 * replaced by U+FFFD, itself valid in a string) is allowed; outside strings JSON allows ASCII only.
 */

/** 1 for the bytes that end the fast part of a string: '"', '\\' and the control characters. */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[0x22] = 1;
STRING_STOP[0x5c] = 1;

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** Index after the string that starts at i (b[i] is '"'), or -1. */
function scanString(b: Uint8Array, i: number, end: number): number {
  i++;
  while (i < end) {
    const c = b[i];
    if (STRING_STOP[c] === 0) {
      i++;
      continue;
    }
    if (c === 0x22) return i + 1;
    if (c !== 0x5c || i + 1 >= end) return -1;
    const e = b[i + 1];
    if (e === 0x75) {
      if (i + 5 >= end || !isHex(b[i + 2]) || !isHex(b[i + 3]) || !isHex(b[i + 4]) || !isHex(b[i + 5])) return -1;
      i += 6;
    } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      i += 2;
    } else return -1;
  }
  return -1;
}

/** Index after the number that starts at i, or -1. Reads past `end` count as "not a digit". */
function scanNumber(b: Uint8Array, i: number, end: number): number {
  const at = (k: number) => (k < end ? b[k] : -1);
  if (at(i) === 0x2d) i++;
  const first = at(i);
  if (first === 0x30) i++;
  else if (first >= 0x31 && first <= 0x39) while (isDigit(at(++i)));
  else return -1;
  if (at(i) === 0x2e) {
    if (!isDigit(at(++i))) return -1;
    while (isDigit(at(++i)));
  }
  const e = at(i);
  if (e === 0x65 || e === 0x45) {
    i++;
    const sign = at(i);
    if (sign === 0x2b || sign === 0x2d) i++;
    if (!isDigit(at(i))) return -1;
    while (isDigit(at(++i)));
  }
  return i;
}

function literalAt(b: Uint8Array, i: number, end: number, word: readonly number[]): boolean {
  if (i + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return false;
  return true;
}
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

const VALUE = 0;
const KEY = 1;
const AFTER = 2;
/** Open containers ('{' or '['), reused between calls: nesting depth costs no allocation. */
let stack = new Uint8Array(64);

/**
 * Whether `b[start, end)` is one complete JSON text (RFC 8259), without building anything.
 * Iterative with an explicit stack, so deep nesting cannot overflow.
 */
export function isJsonBytes(b: Uint8Array, start: number, end: number): boolean {
  let depth = 0;
  let mode = VALUE;
  let i = start;
  for (;;) {
    while (i < end && isWs(b[i])) i++;
    if (mode === AFTER) {
      if (depth === 0) return i === end;
      if (i >= end) return false;
      const c = b[i];
      const top = stack[depth - 1];
      if (c === 0x2c) {
        i++;
        mode = top === 0x7b ? KEY : VALUE;
      } else if ((c === 0x7d && top === 0x7b) || (c === 0x5d && top === 0x5b)) {
        depth--;
        i++;
      } else return false;
      continue;
    }
    if (i >= end) return false;
    const c = b[i];
    if (mode === KEY) {
      if (c !== 0x22) return false;
      i = scanString(b, i, end);
      if (i < 0) return false;
      while (i < end && isWs(b[i])) i++;
      if (i >= end || b[i] !== 0x3a) return false;
      i++;
      mode = VALUE;
      continue;
    }
    // mode === VALUE
    if (c === 0x7b || c === 0x5b) {
      i++;
      while (i < end && isWs(b[i])) i++;
      const close = c === 0x7b ? 0x7d : 0x5d;
      if (i < end && b[i] === close) {
        i++;
        mode = AFTER;
      } else {
        if (depth === stack.length) {
          const bigger = new Uint8Array(stack.length * 2);
          bigger.set(stack);
          stack = bigger;
        }
        stack[depth++] = c;
        mode = c === 0x7b ? KEY : VALUE;
      }
      continue;
    }
    if (c === 0x22) i = scanString(b, i, end);
    else if (c === 0x2d || isDigit(c)) i = scanNumber(b, i, end);
    else if (c === 0x74 && literalAt(b, i, end, TRUE)) i += 4;
    else if (c === 0x66 && literalAt(b, i, end, FALSE)) i += 5;
    else if (c === 0x6e && literalAt(b, i, end, NULL)) i += 4;
    else return false;
    if (i < 0) return false;
    mode = AFTER;
  }
}

const TRACE_ID_KEY = [0x22, 0x74, 0x72, 0x61, 0x63, 0x65, 0x49, 0x64, 0x22]; // "traceId"
const ZEROS = '0000000000000000';

/**
 * The Kafka key of the line's top-level `traceId` (a string of 1-32 lower-case hex digits, not all
 * zeros, as @pintrace/model's normalizeTraceId accepts): the low 64 bits as 16 hex digits, so 64-
 * and 128-bit ids of one trace share a partition. Undefined when the line has no valid one.
 * Only object nesting is tracked, not full JSON (isJsonBytes does that).
 */
export function traceKeyOfBytes(b: Buffer, start: number, end: number): string | undefined {
  let depth = 0;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c === 0x22) {
      if (depth === 1 && literalAt(b, i, end, TRACE_ID_KEY)) {
        let j = i + TRACE_ID_KEY.length;
        while (j < end && isWs(b[j])) j++;
        if (j < end && b[j] === 0x3a) {
          j++;
          while (j < end && isWs(b[j])) j++;
          if (j >= end || b[j] !== 0x22) return undefined;
          return hexKey(b, j + 1, end);
        }
      }
      for (i++; i < end; i++) {
        const s = b[i];
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return undefined;
}

/** The key of the hex id starting at `from` and ending at the next '"', or undefined. */
function hexKey(b: Buffer, from: number, end: number): string | undefined {
  let zero = true;
  let k = from;
  for (; k < end && k - from <= 32; k++) {
    const c = b[k];
    if (c === 0x22) break;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return undefined;
    if (c !== 0x30) zero = false;
  }
  const length = k - from;
  if (k >= end || b[k] !== 0x22 || length === 0 || length > 32 || zero) return undefined;
  const low = length > 16 ? k - 16 : from;
  const key = b.toString('latin1', low, k);
  return length >= 16 ? key : ZEROS.slice(length) + key;
}
