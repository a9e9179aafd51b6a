/**
 * Stage `batch`: bounds the size of a bulk write and lets small batches share one.
 *
 * Spans are buffered until `maxSpans` are waiting (emitted at once, in pieces of at most
 * `maxSpans`), `maxWaitMs` passed since the first buffered item, or `upstreamBlocked()` says no
 * further batch can arrive before one in flight is released (the source waits for its batches to
 * be written, so waiting would only add latency). Completion flushes the rest.
 *
 * A piece that is split off retains every receipt of the buffer, so an offset is committable only
 * when all pieces of its batch were written (conservative: never past unwritten data).
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Span } from '@pintrace/model';
import type { CollectorMetrics } from './metrics.js';
import type { Receipt } from './receipt.js';
import type { SpanBatch } from './types.js';

export interface BatchOptions {
  metrics: CollectorMetrics;
  /** Most spans in one emitted batch (one bulk request). */
  maxSpans: number;
  /** Longest a span waits for others to share its bulk. */
  maxWaitMs: number;
  /** True when nothing more can arrive until a batch in flight is released: flush at once. */
  upstreamBlocked?: () => boolean;
  scheduler?: SchedulerLike;
}

export function batch(options: BatchOptions): OperatorFunction<SpanBatch, SpanBatch> {
  const { maxSpans, maxWaitMs } = options;
  if (!Number.isInteger(maxSpans) || maxSpans < 1) throw new RangeError(`batch: maxSpans must be an integer >= 1, got ${maxSpans}`);
  if (!(maxWaitMs >= 0)) throw new RangeError(`batch: maxWaitMs must be >= 0, got ${maxWaitMs}`);
  const counts = options.metrics.stage('batch', 'span');
  const scheduler = options.scheduler ?? asyncScheduler;
  const upstreamBlocked = options.upstreamBlocked ?? (() => false);

  return (source) =>
    new Observable<SpanBatch>((subscriber) => {
      let spans: Span[] = [];
      let receipts: Receipt[] = [];
      let timer: Subscription | undefined;

      const emit = (out: SpanBatch) => {
        counts.out(out.spans.length);
        subscriber.next(out);
      };
      const flush = () => {
        timer?.unsubscribe();
        timer = undefined;
        if (spans.length === 0 && receipts.length === 0) return;
        const out = { spans, receipts };
        spans = [];
        receipts = [];
        emit(out);
      };
      const splitOffFull = () => {
        while (spans.length > maxSpans) {
          for (const r of receipts) r.retain();
          emit({ spans: spans.slice(0, maxSpans), receipts: [...receipts] });
          spans = spans.slice(maxSpans);
        }
        if (spans.length === maxSpans) flush();
      };

      const subscription = source.subscribe({
        next: (item) => {
          counts.in(item.spans.length);
          if (spans.length === 0 && receipts.length === 0 && item.spans.length === 0) {
            emit(item); // nothing to write: pass on at once so its offsets can be committed
            return;
          }
          for (const s of item.spans) spans.push(s);
          for (const r of item.receipts) receipts.push(r);
          splitOffFull();
          if (receipts.length === 0) return;
          if (maxWaitMs === 0 || upstreamBlocked()) {
            flush();
            return;
          }
          timer ??= scheduler.schedule(flush, maxWaitMs);
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
