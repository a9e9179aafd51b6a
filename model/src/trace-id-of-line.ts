/**
 * Finds the traceId of a span encoded as one JSON object, without parsing the whole object.
 * It scans strings and nesting so a "traceId" inside tags or annotations is not mistaken for the
 * span's own; with our encoder traceId is the first key, so the scan stops after a few bytes.
 */
import { normalizeTraceId } from './ids.js';

/**
 * Returns the normalised trace id of a span JSON line, or undefined when the line has no valid
 * top-level traceId (such a span would be rejected downstream anyway).
 */
export function traceIdOfLine(line: string): string | undefined {
  let depth = 0;
  const length = line.length;
  for (let i = 0; i < length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x22) {
      // A string at depth 1 that is the key "traceId" followed by ':'.
      if (depth === 1 && line.startsWith('"traceId"', i)) {
        let j = i + 9;
        while (j < length && isSpace(line.charCodeAt(j))) j++;
        if (line.charCodeAt(j) === 0x3a) {
          j++;
          while (j < length && isSpace(line.charCodeAt(j))) j++;
          if (line.charCodeAt(j) !== 0x22) return undefined;
          const end = line.indexOf('"', j + 1);
          if (end < 0 || end - j - 1 > 32) return undefined;
          const result = normalizeTraceId(line.slice(j + 1, end));
          return result.ok ? result.id : undefined;
        }
      }
      // Skip over the string.
      for (i++; i < length; i++) {
        const s = line.charCodeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return undefined;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
