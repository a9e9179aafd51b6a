/**
 * Response bodies of the Zipkin API v2, byte for byte as zipkin-server writes them:
 * - spans and traces: SpanBytesEncoder.JSON_V2 (model's encodeSpan), lists joined with ",";
 * - name lists: sorted (Java String order = UTF-16 code units), quoted by Jackson;
 * - dependency links: DependencyLinkBytesEncoder.JSON_V1,
 *   {"parent","child","callCount"[,"errorCount" when > 0]}.
 */
import { encodeSpan, quoteJson, type DependencyLink, type Span } from '@pintrace/model';
import { quoteJackson } from '@pintrace/storage';

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

export function encodeDependencyLinks(links: readonly DependencyLink[]): string {
  const items = links.map((l) => {
    let out = `{"parent":${quoteJson(l.parent)},"child":${quoteJson(l.child)},"callCount":${l.callCount}`;
    if (l.errorCount > 0) out += `,"errorCount":${l.errorCount}`;
    return `${out}}`;
  });
  return `[${items.join(',')}]`;
}
