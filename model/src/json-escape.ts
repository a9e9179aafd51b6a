/**
 * JSON string quoting as zipkin's JsonEscaper does it: RFC 8259 escapes (`\"`, `\\`, `\b`, `\f`,
 * `\n`, `\r`, `\t`, other controls as `\u00xx` lower-case) plus U+2028 and U+2029 escaped so the
 * output is also safe JavaScript. Other non-ASCII is written raw (UTF-8 on the wire).
 */
const LINE_SEPARATORS = /[\u2028\u2029]/g;

export function quoteJson(value: string): string {
  const quoted = JSON.stringify(value);
  return quoted.indexOf('\u2028') === -1 && quoted.indexOf('\u2029') === -1
    ? quoted
    : quoted.replace(LINE_SEPARATORS, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
}
