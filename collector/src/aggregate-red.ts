/**
 * Stage `red` (unit: span): the analytics branch of Pintrace's "group by time window". Each batch
 * is added to the RED windows (`RedWindows`, state the pipeline owns) and passed on unchanged, so
 * the spans still go to the sink; windows that are due close every `tickMs`, and their documents
 * go to the Prometheus series and to the store (storage's ElasticsearchRedWindowStore), one write
 * at a time. Spans without a local service name are not aggregated (counted as dropped from the
 * analytics, they still pass on).
 *
 * Offsets are not held for the windows (a window lives for two window lengths, which would hold
 * every commit that long): a collector that crashes loses its open windows, and spans redelivered
 * after a crash or rebalance count again. Counts are exact whenever each span is consumed once.
 */
import { Observable, type OperatorFunction, type SchedulerLike, asyncScheduler } from 'rxjs';
import type { RedWindowDocument } from '@pintrace/storage';
import type { Logger } from '@pintrace/runtime';
import type { CollectorMetrics } from './metrics.js';
import type { RedMetrics } from './red-metrics.js';
import type { RedWindows } from './red-windows.js';
import { stage } from './stage.js';
import type { SpanBatch } from './types.js';

/** Where closed windows are written (storage's ElasticsearchRedWindowStore). */
export interface RedWindowSink {
  write(docs: readonly RedWindowDocument[]): Promise<void>;
}

export interface AggregateRedOptions {
  metrics: CollectorMetrics;
  red: RedMetrics;
  log: Logger;
  store?: RedWindowSink;
  /** How often due windows are closed; default a tenth of the window, at most 1 s. */
  tickMs?: number;
  scheduler?: SchedulerLike;
}

/** Documents waiting for the store beyond which the oldest are dropped (counted). */
const MAX_PENDING_DOCS = 200_000;

export function aggregateRed(windows: RedWindows, options: AggregateRedOptions): OperatorFunction<SpanBatch, SpanBatch> {
  const { metrics, red, log } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const tickMs = options.tickMs ?? Math.min(1000, Math.max(1, Math.floor(windows.windowMs / 10)));
  const count = stage<SpanBatch, SpanBatch>(metrics, 'red', 'span', (batch, drop) => {
    const { skipped, closed } = windows.add(batch.spans, scheduler.now());
    drop('no_service_name', skipped);
    if (closed.length > 0) emitClosed(closed);
    return batch;
  });
  let pending: RedWindowDocument[] = [];
  let writing: Promise<void> | undefined;

  function emitClosed(docs: RedWindowDocument[]): void {
    red.record(docs);
    red.openWindows.set(windows.openWindows);
    if (!options.store) return;
    pending.push(...docs);
    if (pending.length > MAX_PENDING_DOCS) {
      const excess = pending.length - MAX_PENDING_DOCS;
      pending = pending.slice(excess);
      red.docsDropped.inc({ reason: 'backlog' }, excess);
    }
    void drain();
  }

  function drain(): Promise<void> {
    writing ??= (async () => {
      while (pending.length > 0 && options.store) {
        const docs = pending;
        pending = [];
        try {
          await options.store.write(docs);
          red.docsWritten.inc(docs.length);
        } catch (err) {
          // the store's writer retries what can succeed; what it gives up on is lost, counted
          red.docsDropped.inc({ reason: 'write_failed' }, docs.length);
          log.warn({ err, docs: docs.length }, 'RED window write failed; those windows are not stored');
        }
      }
    })().finally(() => {
      writing = undefined;
    });
    return writing;
  }

  return (source) =>
    new Observable<SpanBatch>((subscriber) => {
      const tick = scheduler.schedule(function (this: { schedule(state?: unknown, delay?: number): void }) {
        const due = windows.closeDue(scheduler.now());
        if (due.length > 0) emitClosed(due);
        this.schedule(undefined, tickMs);
      }, tickMs);
      const subscription = source.pipe(count).subscribe({
        next: (batch) => subscriber.next(batch),
        error: (err) => subscriber.error(err),
        complete: () => {
          tick.unsubscribe();
          const rest = windows.closeAll();
          if (rest.length > 0) emitClosed(rest);
          // the last windows are written before the pipeline completes (and the process ends)
          const finish = async () => {
            while (writing !== undefined || pending.length > 0) await (writing ?? drain());
          };
          finish().then(
            () => subscriber.complete(),
            (err: unknown) => subscriber.error(err),
          );
        },
      });
      return () => {
        tick.unsubscribe();
        subscription.unsubscribe();
      };
    });
}
