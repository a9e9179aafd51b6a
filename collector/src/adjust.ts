/**
 * Stage `adjust`: pluggable span fix-ups (adjusters/), run in order on every span. An adjuster
 * that throws is skipped for that span, logged once per adjuster and counted as
 * `adjusted_total{adjuster="<name>_failed"}` (the span itself goes on unchanged), as
 * zipkin-sparkstreaming skips a failing adjuster. Adjusters never drop spans.
 *
 * Unit: spans.
 */
import type { OperatorFunction } from 'rxjs';
import type { Span } from '@pintrace/model';
import type { Logger } from '@pintrace/runtime';
import type { SpanAdjuster } from './adjusters/span-adjuster.js';
import type { CollectorMetrics } from './metrics.js';
import { stage } from './stage.js';
import type { SpanBatch } from './types.js';

export interface AdjustOptions {
  adjusters: readonly SpanAdjuster[];
  metrics: CollectorMetrics;
  log: Logger;
}

export function adjust(options: AdjustOptions): OperatorFunction<SpanBatch, SpanBatch> {
  const { adjusters, metrics, log } = options;
  const failedOnce = new Set<string>();
  const adjustSpan = (span: Span): Span => {
    let out = span;
    for (const adjuster of adjusters) {
      try {
        if (!adjuster.shouldAdjust(out)) continue;
        out = adjuster.adjust(out);
        metrics.adjusted.inc({ adjuster: adjuster.name });
      } catch (err) {
        metrics.adjusted.inc({ adjuster: `${adjuster.name}_failed` });
        if (!failedOnce.has(adjuster.name)) {
          failedOnce.add(adjuster.name);
          log.warn({ err, adjuster: adjuster.name, traceId: span.traceId, id: span.id }, 'adjuster failed; skipped for this span (logged once)');
        }
      }
    }
    return out;
  };
  return stage(metrics, 'adjust', 'span', (batch: SpanBatch): SpanBatch => (adjusters.length === 0 ? batch : { ...batch, spans: batch.spans.map(adjustSpan) }));
}
