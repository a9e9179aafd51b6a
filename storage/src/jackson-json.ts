/**
 * JSON string quoting byte-compatible with Jackson's UTF8JsonGenerator defaults, which is what
 * zipkin-server uses to write span documents (and so what the document _id hashes):
 * - `"` and `\` escaped; \b \t \n \f \r short escapes; other U+0000..U+001F as \u00XX upper-case;
 * - every UTF-16 surrogate code unit, paired or not, escaped as \uXXXX upper-case
 *   (so U+1F4A9 is written "\uD83D\uDCA9");
 * - everything else, including U+007F, "/" and U+2028/U+2029, raw (UTF-8 on the wire).
 * Verified against jackson-core 2.19 (zipkin 3.6 ships 2.21, same defaults).
 */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;
const HEX = '0123456789ABCDEF';

function unicodeEscape(code: number): string {
  return `\\u${HEX[(code >> 12) & 0xf]}${HEX[(code >> 8) & 0xf]}${HEX[(code >> 4) & 0xf]}${HEX[code & 0xf]}`;
}

const SHORT: Record<number, string> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
};

export function quoteJackson(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  let out = '"';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let replacement: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c) replacement = SHORT[c] ?? unicodeEscape(c);
    else if (c >= 0xd800 && c <= 0xdfff) replacement = unicodeEscape(c);
    if (replacement === undefined) continue;
    if (from < i) out += value.slice(from, i);
    out += replacement;
    from = i + 1;
  }
  if (from < value.length) out += value.slice(from);
  return `${out}"`;
}
