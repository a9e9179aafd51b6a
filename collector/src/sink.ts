/**
 * Stage `sink`: hands each batch to the span writer and emits it only once its spans are durable,
 * so the commit stage never sees unwritten data.
 *
 * The writer owns everything about reaching the store (@pintrace/storage's
 * ElasticsearchSpanWriter): bulk size, bulk requests in flight, and retrying 429s, partial
 * failures and outages for as long as it takes. The sink owns none of it: it hands over every
 * batch as it comes (the writer decides how many writes it encodes and sends at once; the
 * backpressure bounds the spans in flight), counts the retries the writer reports
 * and tells /health about them, and counts spans the store refused for good as dropped with the
 * reason it gave, so one bad document cannot stall a partition. Aborting (shutdown) ends the
 * writer's retrying with an error and nothing more is committed.
 */
import { catchError, defer, from, map, mergeMap, of, tap, throwError, type OperatorFunction } from 'rxjs';
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

/** One resubmission: its cause (a status or error code) and what the store or network said. */
export interface SinkRetry {
  attempt: number;
  cause: string;
  detail?: string;
}

/** What the sink hears about one write while the writer retries it. */
export interface SinkWriteOptions {
  /** Ends the writer's retrying: the write rejects. */
  signal?: AbortSignal;
  /** Told before each resubmission, with what caused it. */
  onRetry?: (event: SinkRetry) => void;
}

/** The part of a span writer (@pintrace/storage SpanWriter) the sink uses. */
export interface SinkWriter {
  /** Most spans one write should carry: the writer's bulk size, which the batch stage fills. */
  readonly maxBatchSpans: number;
  /**
   * Resolves when every span is durable or listed in `failed` (refused for good). Retries
   * transient failures itself; rejects only when aborted or on a failure waiting cannot mend.
   */
  write(spans: readonly Span[], options?: SinkWriteOptions): Promise<{ failed: readonly SinkRejection[] }>;
}

export interface SinkOptions {
  writer: SinkWriter;
  metrics: CollectorMetrics;
  log: Logger;
  /** Ends the writer's retrying: the failed batch errors the pipeline instead of waiting. */
  signal?: AbortSignal;
  /** Told whether the last write reached storage (for /health). */
  onStorageState?: (reachable: boolean, error?: unknown) => void;
}

export function sink(options: SinkOptions): OperatorFunction<SpanBatch, SpanBatch> {
  const { writer, metrics, log, signal } = options;
  const counts = metrics.stage('sink', 'span');
  const onState = options.onStorageState ?? (() => {});

  const write = (batch: SpanBatch) =>
    defer(() => {
      if (signal?.aborted) return throwError(() => abortError());
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      const onRetry = (event: SinkRetry) => {
        metrics.sinkRetries.inc();
        onState(false, event.cause);
        log.warn({ attempt: event.attempt, cause: event.cause, detail: event.detail, spans: batch.spans.length }, 'bulk write failed; the writer retries');
      };
      return from(writer.write(batch.spans, { signal, onRetry })).pipe(
        tap({
          next: () => metrics.bulkSeconds.observe({ result: 'ok' }, seconds()),
          error: () => metrics.bulkSeconds.observe({ result: 'error' }, seconds()),
        }),
      );
    }).pipe(catchError((err: unknown) => throwError(() => (signal?.aborted ? abortError(err) : err))));

  return mergeMap((batch: SpanBatch) => {
    counts.in(batch.spans.length);
    if (batch.spans.length === 0) return of(batch);
    return write(batch).pipe(
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
  });
}

function abortError(cause?: unknown): CollectorError {
  return new CollectorError('COLLECTOR_ABORTED', 'the sink was aborted before the batch was written; its offsets stay uncommitted', { cause });
}
