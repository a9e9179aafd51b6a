/**
 * Span file line codec: one compact Zipkin v2 JSON span per line, "\n"-terminated.
 * Our JSON encoder never emits a raw newline (it is escaped inside strings), so a line is a span.
 */
import { decodeSpan, encodeSpan } from './json-codec.js';
import type { SpanResult } from './reasons.js';
import type { Span } from './span.js';

/** Encodes a span as one line, including the trailing "\n". */
export function encodeSpanLine(span: Span): string {
  return `${encodeSpan(span)}\n`;
}

/** Decodes one line (a trailing "\n" or "\r\n" is ignored). Never throws. */
export function decodeSpanLine(line: string): SpanResult {
  let end = line.length;
  if (end > 0 && line.charCodeAt(end - 1) === 0x0a) end--;
  if (end > 0 && line.charCodeAt(end - 1) === 0x0d) end--;
  return decodeSpan(end === line.length ? line : line.slice(0, end));
}

/**
 * Joins span lines (with or without their "\n") into one list message "[span,...]", the Kafka
 * message format, without decoding them.
 */
export function joinSpanLines(lines: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const body = line.endsWith('\n') ? line.slice(0, line.endsWith('\r\n') ? -2 : -1) : line;
    out += i === 0 ? body : `,${body}`;
  }
  return `${out}]`;
}
