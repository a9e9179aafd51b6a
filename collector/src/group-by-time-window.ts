/**
 * Stage `group` by time (for analytics): tumbling windows of `sizeMs`, aligned to multiples of
 * `sizeMs` since the epoch on the scheduler's clock. Items are collected until their window ends
 * and emitted together with the window's bounds; an empty window emits nothing. Bounded: a
 * window that reaches `maxItems` (by `weight`, default 1 per item) is emitted early as a part of
 * the same window (`partial: true`), counted in `traces_closed_total{reason="window_full"}`.
 * Completion emits the open window.
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { CollectorMetrics } from './metrics.js';

export interface TimeWindow<T> {
  /** Window start and end (exclusive), epoch ms. */
  start: number;
  end: number;
  items: T[];
  /** True when emitted early because the window was full; more of the same window may follow. */
  partial: boolean;
}

export interface TimeWindowOptions<T> {
  sizeMs: number;
  maxItems: number;
  weight?: (item: T) => number;
  metrics?: CollectorMetrics;
  scheduler?: SchedulerLike;
}

export function groupByTimeWindow<T>(options: TimeWindowOptions<T>): OperatorFunction<T, TimeWindow<T>> {
  const { sizeMs, maxItems } = options;
  if (!(sizeMs > 0)) throw new RangeError(`time window: sizeMs must be > 0, got ${sizeMs}`);
  if (!Number.isInteger(maxItems) || maxItems < 1) throw new RangeError(`time window: maxItems must be an integer >= 1, got ${maxItems}`);
  const scheduler = options.scheduler ?? asyncScheduler;
  const weight = options.weight ?? (() => 1);
  return (source) =>
    new Observable<TimeWindow<T>>((subscriber) => {
      let start = Math.floor(scheduler.now() / sizeMs) * sizeMs;
      let items: T[] = [];
      let size = 0;
      let timer: Subscription | undefined;

      const emit = (partial: boolean) => {
        if (items.length > 0) subscriber.next({ start, end: start + sizeMs, items, partial });
        items = [];
        size = 0;
      };
      const roll = () => {
        const now = scheduler.now();
        const current = Math.floor(now / sizeMs) * sizeMs;
        if (current !== start) {
          emit(false);
          start = current;
        }
        timer = scheduler.schedule(roll, start + sizeMs - scheduler.now());
      };
      timer = scheduler.schedule(roll, start + sizeMs - scheduler.now());

      const subscription = source.subscribe({
        next: (item) => {
          const current = Math.floor(scheduler.now() / sizeMs) * sizeMs;
          if (current !== start) {
            emit(false);
            start = current;
          }
          items.push(item);
          size += weight(item);
          if (size >= maxItems) {
            options.metrics?.tracesClosed.inc({ reason: 'window_full' });
            emit(true);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          emit(false);
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
