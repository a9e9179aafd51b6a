/*
 * The agent's per-line work on one chunk of read lines, compiled to WebAssembly (SIMD128):
 * trim, check each line is one complete JSON text (RFC 8259) with a top-level "traceId" of
 * 1-32 lower-case hex digits, group the lines by trace key (the id's low 64 bits), and lay out
 * one Kafka message per trace: a 16-digit key, then '[' + lines joined by ',' + ']'.
 *
 * Why not JavaScript: this was most of the agent's CPU. The same checks in JS were slower
 * (docs/decisions.md D3) and needed a string per trace key; here strings are skipped 16 bytes at a time and nothing is
 * allocated. Same answers as `JSON.parse` on the UTF-8 decoded line (bytes >= 0x80 only inside
 * strings), checked against it by logger-agent/test/line-check.test.ts.
 *
 * Built by logger-agent/wasm/build.sh (clang --target=wasm32 -msimd128, no libc); the .wasm is
 * committed so installing the agent needs no C toolchain, and a test rebuilds it when clang is
 * present and compares.
 */
#include <stdint.h>
#include <wasm_simd128.h>

/* Per-line results (the status array). */
enum { LINE_OK = 0, LINE_EMPTY = 1, LINE_OVERSIZED = 2, LINE_NOT_OBJECT = 3, LINE_NO_TRACE_ID = 4, LINE_INVALID_JSON = 5 };
/* check_json results below 0. */
enum { JSON_INVALID = -1, JSON_NO_TRACE = -2 };

static inline int is_ws(uint8_t c) { return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09; }
static inline int is_digit(uint8_t c) { return (uint8_t)(c - '0') < 10; }
static inline int is_hex(uint8_t c) { return is_digit(c) || (uint8_t)((c | 0x20) - 'a') < 6; }

/*
 * Index after the closing quote of the string at b[i] == '"', or -1. Reads up to 15 bytes past
 * `end` (the caller pads the input), never trusting what it finds there. Always inlined: clang
 * left it a call, and a call per string is paid on every string of every line.
 */
__attribute__((always_inline)) static inline int32_t scan_string(const uint8_t *b, int32_t i, int32_t end) {
  const v128_t quote = wasm_i8x16_splat('"'), backslash = wasm_i8x16_splat('\\'), space = wasm_i8x16_splat(0x20);
  i++;
  for (;;) {
    if (i >= end) return -1;
    v128_t v = wasm_v128_load(b + i);
    v128_t stop = wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(v, quote), wasm_i8x16_eq(v, backslash)), wasm_u8x16_lt(v, space));
    uint32_t bits = wasm_i8x16_bitmask(stop);
    if (bits == 0) {
      i += 16;
      continue;
    }
    i += __builtin_ctz(bits);
    if (i >= end) return -1;
    uint8_t c = b[i];
    if (c == '"') return i + 1;
    if (c != '\\' || i + 1 >= end) return -1; /* a control character, or a lone backslash at the end */
    uint8_t e = b[i + 1];
    if (e == 'u') {
      if (i + 5 >= end || !is_hex(b[i + 2]) || !is_hex(b[i + 3]) || !is_hex(b[i + 4]) || !is_hex(b[i + 5])) return -1;
      i += 6;
    } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
      i += 2;
    } else {
      return -1;
    }
  }
}

/* Index after the number at i, or -1. */
static inline int32_t scan_number(const uint8_t *b, int32_t i, int32_t end) {
#define AT(k) ((k) < end ? b[k] : 0)
  if (AT(i) == '-') i++;
  uint8_t first = AT(i);
  if (first == '0') {
    i++;
  } else if (first >= '1' && first <= '9') {
    do i++;
    while (is_digit(AT(i)));
  } else {
    return -1;
  }
  if (AT(i) == '.') {
    i++;
    if (!is_digit(AT(i))) return -1;
    while (is_digit(AT(i))) i++;
  }
  uint8_t e = AT(i);
  if (e == 'e' || e == 'E') {
    i++;
    uint8_t sign = AT(i);
    if (sign == '+' || sign == '-') i++;
    if (!is_digit(AT(i))) return -1;
    while (is_digit(AT(i))) i++;
  }
  return i;
#undef AT
}

static inline int word_at(const uint8_t *b, int32_t i, int32_t end, const char *w, int32_t n) {
  if (i + n > end) return 0;
  for (int32_t k = 0; k < n; k++)
    if (b[i + k] != (uint8_t)w[k]) return 0;
  return 1;
}

enum { VALUE, KEY, AFTER };

/*
 * Whether b[start, end) is one JSON text; when it is, where the value of its first top-level
 * "traceId" key starts (after the quote) if that value is a string, else JSON_NO_TRACE. Iterative: open
 * containers are one bit each in `stack` (1 = object), which holds at least end - start bits.
 */
static int32_t check_json(const uint8_t *b, int32_t start, int32_t end, uint8_t *stack) {
  int32_t depth = 0, mode = VALUE, i = start, trace = JSON_NO_TRACE, trace_next = 0, trace_seen = 0;
  for (;;) {
    while (i < end && is_ws(b[i])) i++;
    if (mode == AFTER) {
      if (depth == 0) return i == end ? trace : JSON_INVALID;
      if (i >= end) return JSON_INVALID;
      uint8_t c = b[i];
      int object = (stack[(depth - 1) >> 3] >> ((depth - 1) & 7)) & 1;
      if (c == ',') {
        i++;
        mode = object ? KEY : VALUE;
      } else if ((c == '}' && object) || (c == ']' && !object)) {
        depth--;
        i++;
      } else {
        return JSON_INVALID;
      }
      continue;
    }
    if (i >= end) return JSON_INVALID;
    uint8_t c = b[i];
    if (mode == KEY) {
      if (c != '"') return JSON_INVALID;
      int32_t key = i;
      i = scan_string(b, i, end);
      if (i < 0) return JSON_INVALID;
      trace_next = depth == 1 && !trace_seen && i - key == 9 && word_at(b, key + 1, end, "traceId", 7);
      trace_seen |= trace_next;
      while (i < end && is_ws(b[i])) i++;
      if (i >= end || b[i] != ':') return JSON_INVALID;
      i++;
      mode = VALUE;
      continue;
    }
    if (c == '{' || c == '[') {
      trace_next = 0;
      i++;
      while (i < end && is_ws(b[i])) i++;
      if (i < end && b[i] == (c == '{' ? '}' : ']')) {
        i++;
        mode = AFTER;
        continue;
      }
      if (c == '{') stack[depth >> 3] |= (uint8_t)(1 << (depth & 7));
      else stack[depth >> 3] &= (uint8_t)~(1 << (depth & 7));
      depth++;
      mode = c == '{' ? KEY : VALUE;
      continue;
    }
    if (c == '"') {
      if (trace_next) trace = i + 1;
      i = scan_string(b, i, end);
    } else if (c == '-' || is_digit(c)) {
      i = scan_number(b, i, end);
    } else if (c == 't' && word_at(b, i, end, "true", 4)) {
      i += 4;
    } else if (c == 'f' && word_at(b, i, end, "false", 5)) {
      i += 5;
    } else if (c == 'n' && word_at(b, i, end, "null", 4)) {
      i += 4;
    } else {
      return JSON_INVALID;
    }
    trace_next = 0;
    if (i < 0) return JSON_INVALID;
    mode = AFTER;
  }
}

/*
 * Where the first top-level "traceId" string value starts, tracking only nesting and strings
 * (no validation): for `checkJson` off, and to tell "no trace id" from "invalid JSON" on a line
 * that failed the check (the trace id is looked for first, as the agent always reported it).
 */
static int32_t find_trace(const uint8_t *b, int32_t start, int32_t end) {
  int32_t depth = 0;
  for (int32_t i = start; i < end; i++) {
    uint8_t c = b[i];
    if (c == '"') {
      if (depth == 1 && word_at(b, i, end, "\"traceId\"", 9)) {
        int32_t j = i + 9;
        while (j < end && is_ws(b[j])) j++;
        if (j < end && b[j] == ':') {
          j++;
          while (j < end && is_ws(b[j])) j++;
          return j < end && b[j] == '"' ? j + 1 : JSON_NO_TRACE;
        }
      }
      for (i++; i < end; i++) {
        if (b[i] == '\\') i++;
        else if (b[i] == '"') break;
      }
    } else if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      depth--;
    }
  }
  return JSON_NO_TRACE;
}

/*
 * Whether the trace id at `from` is one (1-32 lower-case hex digits up to a '"', not all zeros);
 * its low 64 bits go to *key (a 128-bit id may have a zero low half: validity is separate).
 */
static int trace_key(const uint8_t *b, int32_t from, int32_t end, uint64_t *key) {
  uint64_t low = 0;
  int nonzero = 0;
  int32_t k = from;
  for (; k < end && k - from <= 32; k++) {
    uint8_t c = b[k];
    if (c == '"') break;
    uint8_t nibble;
    if (is_digit(c)) nibble = c - '0';
    else if (c >= 'a' && c <= 'f') nibble = c - 'a' + 10;
    else return 0;
    nonzero |= nibble;
    low = (low << 4) | nibble;
  }
  int32_t length = k - from;
  if (k >= end || b[k] != '"' || length == 0 || length > 32 || !nonzero) return 0;
  *key = low;
  return 1;
}

static const char HEX[] = "0123456789abcdef";

/*
 * One chunk of lines → messages.
 *   in[starts[n] - base, ends[n] - base) is line n (`in` is readable 16 bytes past its end);
 *     a shipped line's range is narrowed to its trimmed bytes (and made relative to `in`);
 *   status[n] ← LINE_*; status[count] ← lines neither shipped nor empty; status[count + 1] ← lines shipped;
 *   next[count], table[3 << hash_bits] (key low, key high, group), groups[4 * count]: scratch;
 *   out ← per message: 16 key digits, then the value; groups[4g..4g+2] ← key offset, value offset, value length;
 *   stack: at least (longest line / 8 + 1) bytes for check_json.
 * Returns the number of messages (traces, in order of first line).
 */
int32_t build_messages(const uint8_t *in, int32_t base, int32_t *starts, int32_t *ends, int32_t count, int32_t max_line, int32_t check,
                       int32_t *status, int32_t *next, uint32_t *table, int32_t hash_bits, int32_t *groups, uint8_t *out,
                       uint8_t *stack) {
  const uint32_t mask = (1u << hash_bits) - 1;
  for (uint32_t h = 0; h <= mask; h++) table[3 * h + 2] = 0xffffffffu;
  int32_t n_groups = 0, rejected = 0, shipped = 0;
  /* groups[4g] = head line, [4g+1] = tail line, [4g+2..3] = key (low, high) while grouping */
  for (int32_t n = 0; n < count; n++) {
    int32_t s = starts[n] - base, e = ends[n] - base;
    while (s < e && is_ws(in[s])) s++;
    while (e > s && is_ws(in[e - 1])) e--;
    int32_t st = LINE_OK;
    uint64_t key = 0;
    if (s == e) {
      st = LINE_EMPTY;
    } else if (e - s > max_line) {
      st = LINE_OVERSIZED;
    } else if (in[s] != '{' || in[e - 1] != '}') {
      st = LINE_NOT_OBJECT;
    } else {
      int32_t at = check ? check_json(in, s, e, stack) : find_trace(in, s, e);
      if (at == JSON_INVALID) {
        at = find_trace(in, s, e);
        st = at >= 0 && trace_key(in, at, e, &key) ? LINE_INVALID_JSON : LINE_NO_TRACE_ID;
      } else if (at < 0 || !trace_key(in, at, e, &key)) {
        st = LINE_NO_TRACE_ID;
      }
    }
    status[n] = st;
    if (st != LINE_OK) {
      if (st != LINE_EMPTY) rejected++;
      continue;
    }
    shipped++;
    starts[n] = s;
    ends[n] = e;
    next[n] = -1;
    uint64_t x = key * 0x9e3779b97f4a7c15ull;
    uint32_t h = (uint32_t)(x >> 40) & mask;
    for (;;) {
      uint32_t g = table[3 * h + 2];
      if (g == 0xffffffffu) {
        table[3 * h] = (uint32_t)key;
        table[3 * h + 1] = (uint32_t)(key >> 32);
        table[3 * h + 2] = (uint32_t)n_groups;
        groups[4 * n_groups] = n;
        groups[4 * n_groups + 1] = n;
        groups[4 * n_groups + 2] = (int32_t)(uint32_t)key;
        groups[4 * n_groups + 3] = (int32_t)(uint32_t)(key >> 32);
        n_groups++;
        break;
      }
      if (table[3 * h] == (uint32_t)key && table[3 * h + 1] == (uint32_t)(key >> 32)) {
        next[groups[4 * g + 1]] = n;
        groups[4 * g + 1] = n;
        break;
      }
      h = (h + 1) & mask;
    }
  }
  status[count] = rejected;
  status[count + 1] = shipped;
  uint8_t *o = out;
  for (int32_t g = 0; g < n_groups; g++) {
    uint64_t key = ((uint64_t)(uint32_t)groups[4 * g + 3] << 32) | (uint32_t)groups[4 * g + 2];
    int32_t head = groups[4 * g];
    groups[4 * g] = (int32_t)(o - out);
    for (int32_t d = 15; d >= 0; d--, key >>= 4) o[d] = HEX[key & 15];
    o += 16;
    groups[4 * g + 1] = (int32_t)(o - out);
    uint8_t sep = '[';
    for (int32_t n = head; n >= 0; n = next[n]) {
      *o++ = sep;
      sep = ',';
      int32_t s = starts[n], len = ends[n] - s;
      __builtin_memcpy(o, in + s, (uint32_t)len);
      o += len;
    }
    *o++ = ']';
    groups[4 * g + 2] = (int32_t)(o - out) - groups[4 * g + 1];
  }
  return n_groups;
}
