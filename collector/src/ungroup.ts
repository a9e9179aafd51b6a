/**
 * Stage between grouping and the bulk writes: closed traces become a span batch again, carrying
 * the holds of every trace (and the holds on offsets that had no spans). With `spans: false` only
 * the holds go on (the spans were written before grouping).
 */
import { map, type OperatorFunction } from 'rxjs';
import type { Span } from '@pintrace/model';
import type { Receipt } from './receipt.js';
import type { SpanBatch, TraceBatch } from './types.js';

export function ungroup(options: { spans?: boolean } = {}): OperatorFunction<TraceBatch, SpanBatch> {
  const withSpans = options.spans ?? true;
  return map((batch: TraceBatch): SpanBatch => {
    const spans: Span[] = [];
    const receipts: Receipt[] = [...batch.receipts];
    for (const trace of batch.traces) {
      if (withSpans) for (const s of trace.spans) spans.push(s);
      for (const r of trace.receipts) receipts.push(r);
    }
    return { spans, receipts };
  });
}
