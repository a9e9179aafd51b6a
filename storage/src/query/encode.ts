/**
 * Response bodies byte-for-byte as zipkin-server writes them:
 * - spans and traces: SpanBytesEncoder.JSON_V2 (model's encodeSpan), lists joined with ",";
 * - name lists: sorted (Java String order = UTF-16 code units), quoted by Jackson.
 */
import { encodeSpan, type Span } from '@pintrace/model';
import { quoteJackson } from '../jackson-json.js';

export function encodeTrace(spans: readonly Span[]): string {
  return `[${spans.map(encodeSpan).join(',')}]`;
}

export function encodeTraces(traces: readonly (readonly Span[])[]): string {
  return `[${traces.map(encodeTrace).join(',')}]`;
}

/** Sorts a copy and writes it as a JSON list of strings. */
export function encodeNames(names: readonly string[]): string {
  return `[${[...names].sort().map(quoteJackson).join(',')}]`;
}
