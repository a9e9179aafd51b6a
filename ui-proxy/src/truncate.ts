/**
 * The per-trace span cap. A trace longer than the cap keeps its earliest spans (by timestamp,
 * spans without one last) and its first kept span is marked, visibly in the Zipkin UI, with
 *   tag        "pintrace.truncated" = "<kept> of <total> spans shown"
 *   annotation "pintrace.truncated: <kept> of <total> spans shown" at that span's timestamp.
 */
import type { Span } from '@pintrace/model';

export const TRUNCATED_TAG = 'pintrace.truncated';

export function capTrace(spans: Span[], max: number): { spans: Span[]; truncated: boolean } {
  if (spans.length <= max) return { spans, truncated: false };
  const order = spans.map((span, i) => ({ span, i })).sort((a, b) => (a.span.timestamp ?? Infinity) - (b.span.timestamp ?? Infinity) || a.i - b.i);
  const kept = order.slice(0, max).map((e) => e.span);
  const first = kept[0]!;
  const note = `${max} of ${spans.length} spans shown`;
  const marked: Span = { ...first, tags: { ...first.tags, [TRUNCATED_TAG]: note } };
  if (first.timestamp !== undefined) {
    const annotations = [...(first.annotations ?? []), { timestamp: first.timestamp, value: `${TRUNCATED_TAG}: ${note}` }];
    annotations.sort((a, b) => a.timestamp - b.timestamp || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    marked.annotations = annotations;
  }
  kept[0] = marked;
  return { spans: kept, truncated: true };
}
