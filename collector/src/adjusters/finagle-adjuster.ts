/**
 * Finagle timestamp/duration backfill (zipkin-sparkstreaming's FinagleAdjuster, pinterest-design
 * §1.4): Finagle before 6.41 reported RPC spans without timestamp and duration.
 *
 * Applies to spans with a tag whose key contains "finagle.version" (e.g. "srv/finagle.version").
 * - timestamp and duration both set: unchanged (they are authoritative);
 * - fewer than two annotations: only a missing timestamp is guessed, from "cs" else "sr";
 * - otherwise first/last annotation timestamps, with "cs" preferred as first and "cr" as last
 *   (so a client span is not distorted by server clock skew); timestamp ??= first and
 *   duration ??= last - first when they differ.
 */
import type { Span } from '@pintrace/model';
import type { SpanAdjuster } from './span-adjuster.js';

export class FinagleAdjuster implements SpanAdjuster {
  readonly name = 'finagle';

  shouldAdjust(span: Span): boolean {
    if (span.tags === undefined) return false;
    if (span.timestamp !== undefined && span.duration !== undefined) return false;
    for (const key of Object.keys(span.tags)) if (key.includes('finagle.version')) return true;
    return false;
  }

  adjust(span: Span): Span {
    if (span.timestamp !== undefined && span.duration !== undefined) return span;
    const annotations = span.annotations ?? [];
    const at = (value: string) => annotations.find((a) => a.value === value)?.timestamp;
    if (annotations.length < 2) {
      if (span.timestamp !== undefined) return span;
      const guess = at('cs') ?? at('sr');
      return guess === undefined ? span : { ...span, timestamp: guess };
    }
    let first = annotations[0]!.timestamp;
    let last = annotations[annotations.length - 1]!.timestamp;
    for (const a of annotations) {
      if (a.timestamp < first) first = a.timestamp;
      if (a.timestamp > last) last = a.timestamp;
    }
    first = at('cs') ?? first;
    last = at('cr') ?? last;
    const out: Span = { ...span };
    out.timestamp ??= first;
    if (out.duration === undefined && last !== first && last > first) out.duration = last - first;
    return out;
  }
}
