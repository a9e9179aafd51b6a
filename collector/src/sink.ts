/**
 * Stage `sink`: writes each batch to Elasticsearch through a span writer and emits the batch
 * only once its spans are durable, so the commit stage never sees unwritten data.
 *
 * The writer retries over-capacity (429) itself and reports spans that Elasticsearch refused for
 * good (a mapping conflict, say); those are counted as dropped with the reason it gives, so one bad
 * document cannot stall a partition. A write that fails as a whole (Elasticsearch unreachable)
 * is tried again with capped exponential backoff for as long as it takes: the batch is held, its
 * offsets are not committed, and the source fetches nothing more for that partition meanwhile.
 * Aborting (shutdown) ends the wait with an error and nothing is committed.
 */
import {
  asyncScheduler,
  defer,
  from,
  fromEvent,
  map,
  mergeMap,
  of,
  race,
  retry,
  tap,
  throwError,
  timer,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import type { Span } from '@pintrace/model';
import type { Logger } from '@pintrace/runtime';
import { CollectorError } from './errors.js';
import type { CollectorMetrics } from './metrics.js';
import type { SpanBatch } from './types.js';

/** A span that storage refused for good (a mapping conflict, say). */
export interface SinkRejection {
  /** Short stable cause, e.g. Elasticsearch's error type; becomes the `reason` label. */
  reason: string;
  status?: number;
}

/** The part of a span writer (@pintrace/storage SpanWriter) the sink uses. */
export interface SinkWriter {
  /**
   * Resolves when every span is durable or listed in `failed` (refused for good); rejects when
   * the write failed as a whole and may be tried again.
   */
  write(spans: Span[]): Promise<{ failed: readonly SinkRejection[] }>;
}

export interface SinkOptions {
  writer: SinkWriter;
  metrics: CollectorMetrics;
  log: Logger;
  /** Bulk writes in flight at once; default 2. */
  concurrency?: number;
  /** Backoff after the first failed attempt; doubles up to maxBackoffMs. Default 200 ms. */
  minBackoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
  /** Ends retrying: the failed batch errors the pipeline instead of waiting. */
  signal?: AbortSignal;
  /** Told whether the last write reached storage (for /health). */
  onStorageState?: (reachable: boolean, error?: unknown) => void;
  scheduler?: SchedulerLike;
}

export function sink(options: SinkOptions): OperatorFunction<SpanBatch, SpanBatch> {
  const { writer, metrics, log } = options;
  const counts = metrics.stage('sink', 'span');
  const minBackoff = options.minBackoffMs ?? 200;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const scheduler = options.scheduler ?? asyncScheduler;
  const signal = options.signal;
  const onState = options.onStorageState ?? (() => {});

  const aborted$ = () =>
    signal ? fromEvent(signal, 'abort').pipe(mergeMap(() => throwError(() => abortError()))) : of<never>();

  const writeOnce = (batch: SpanBatch) =>
    defer(() => {
      if (signal?.aborted) return throwError(() => abortError());
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      return from(writer.write(batch.spans)).pipe(
        tap({
          next: () => metrics.bulkSeconds.observe({ result: 'ok' }, seconds()),
          error: () => metrics.bulkSeconds.observe({ result: 'error' }, seconds()),
        }),
      );
    });

  return mergeMap((batch: SpanBatch) => {
    counts.in(batch.spans.length);
    if (batch.spans.length === 0) return of(batch);
    return writeOnce(batch).pipe(
      retry({
        delay: (err: unknown, attempt: number) => {
          if (signal?.aborted) return throwError(() => (err instanceof CollectorError ? err : abortError(err)));
          metrics.sinkRetries.inc();
          onState(false, err);
          const wait = Math.min(maxBackoff, minBackoff * 2 ** (attempt - 1));
          const jittered = Math.round(wait / 2 + (Math.random() * wait) / 2);
          log.warn({ err, attempt, spans: batch.spans.length, retryInMs: jittered }, 'bulk write failed; retrying');
          return signal ? race(timer(jittered, scheduler), aborted$()) : timer(jittered, scheduler);
        },
      }),
      map((result) => {
        onState(true);
        const rejected = result.failed;
        const byReason = new Map<string, number>();
        for (const r of rejected) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
        for (const [reason, n] of byReason) counts.dropped(reason, n);
        if (rejected.length > 0) log.warn({ rejected: rejected.length, reasons: Object.fromEntries(byReason) }, 'storage refused spans for good');
        counts.out(batch.spans.length - rejected.length);
        metrics.spansWritten.inc(batch.spans.length - rejected.length);
        return batch;
      }),
    );
  }, options.concurrency ?? 2);
}

function abortError(cause?: unknown): CollectorError {
  return new CollectorError('COLLECTOR_ABORTED', 'the sink was aborted before the batch was written; its offsets stay uncommitted', false, { cause });
}
