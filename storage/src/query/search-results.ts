/**
 * Reading Elasticsearch search responses the way zipkin's BodyConverters do:
 * - KEYS: every value of a property named "key" anywhere in the response, first-seen order,
 *   without duplicates (JsonReaders.collectValuesNamed) — the aggregation bucket keys;
 * - SPANS / DEPENDENCY_LINKS: `hits.hits[]._source`, in hit order.
 */
import { checkSpan, type Span } from '@pintrace/model';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Collects every "key" value (as text) in document order, deduplicated. */
export function collectKeys(body: unknown): string[] {
  const out = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (isObject(node)) {
      for (const [name, value] of Object.entries(node)) {
        if (name === 'key' && value !== null && !isObject(value)) out.add(String(value));
        else visit(value);
      }
    }
  };
  visit(body);
  return [...out];
}

/** The `_source` objects of `hits.hits`, in order. */
export function hitSources(body: unknown): Record<string, unknown>[] {
  if (!isObject(body) || !isObject(body.hits) || !Array.isArray(body.hits.hits)) return [];
  const out: Record<string, unknown>[] = [];
  for (const hit of body.hits.hits) {
    if (isObject(hit) && isObject(hit._source)) out.push(hit._source);
  }
  return out;
}

export interface ParsedSpans {
  spans: Span[];
  /** Documents that are not valid spans (skipped; zipkin would fail the whole query). */
  skipped: number;
}

/** Span documents → normalised spans (search fields `_q` and `timestamp_millis` are ignored). */
export function parseSpanHits(body: unknown): ParsedSpans {
  const spans: Span[] = [];
  let skipped = 0;
  for (const source of hitSources(body)) {
    const result = checkSpan(source);
    if (result.ok) spans.push(result.span);
    else skipped++;
  }
  return { spans, skipped };
}
