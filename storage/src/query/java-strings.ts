/**
 * The two java.lang.String operations zipkin's query parsing relies on, with Java's semantics:
 * - trim(): strips code units <= U+0020 at both ends (not Unicode white space, unlike JS trim);
 * - split(literal, limit > 0): at most `limit` pieces, the last holding the rest, and trailing
 *   empty pieces are kept (our separators are literal strings, never regex syntax).
 */

/** Java's String.trim(). */
export function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Java's String.split(Pattern.quote(separator), limit) for limit > 0. */
export function javaSplit(s: string, separator: string, limit: number): string[] {
  const out: string[] = [];
  let from = 0;
  while (out.length < limit - 1) {
    const at = s.indexOf(separator, from);
    if (at < 0) break;
    out.push(s.slice(from, at));
    from = at + separator.length;
  }
  out.push(s.slice(from));
  return out;
}
