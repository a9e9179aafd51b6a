/**
 * The collector's pipeline, one operator per stage:
 *
 *   source → validate → batch → sink → commit
 *
 * Stages to come (adjust, filter, group, tail sampling, dependency links) slot in between
 * validate and batch as further `OperatorFunction<SpanBatch, SpanBatch>`s; a stage that drops
 * spans keeps the batch's receipts flowing, and one that holds spans (group) keeps the receipts
 * with them, so offsets are still committed only after the data is durable.
 */
import type { Observable, SchedulerLike } from 'rxjs';
import type { SpanConsumer } from '@pintrace/kafka';
import type { Logger } from '@pintrace/runtime';
import { batch } from './batch.js';
import { commit } from './commit.js';
import type { CollectorMetrics } from './metrics.js';
import { OffsetTracker } from './offset-tracker.js';
import { sink, type SinkWriter } from './sink.js';
import { kafkaSource } from './source.js';
import type { CommittedOffset } from './types.js';
import { validate } from './validate.js';

export interface PipelineOptions {
  consumer: Pick<SpanConsumer, 'run' | 'commit'>;
  writer: SinkWriter;
  metrics: CollectorMetrics;
  log: Logger;
  /** Most spans per bulk request. */
  batchSize: number;
  /** Longest a span waits for others to share its bulk request. */
  batchTimeMs: number;
  /**
   * Batches the consumer hands over at once (the kafkajs consumer: 1). Once that many are in
   * flight nothing more can arrive, so the batch stage stops waiting for company. Default 1.
   */
  consumerConcurrency?: number;
  /** Bulk requests in flight at once; default 2. */
  sinkConcurrency?: number;
  /** Backoff bounds of whole-bulk retries in the sink. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Aborts the sink's retries (the pipeline then errors and commits nothing more). */
  signal?: AbortSignal;
  onStorageState?: (reachable: boolean, error?: unknown) => void;
  scheduler?: SchedulerLike;
}

export interface Pipeline {
  /** Runs the pipeline when subscribed; emits each accepted commit. */
  committed$: Observable<CommittedOffset[]>;
  tracker: OffsetTracker;
  /** Ends intake; `committed$` completes once what was in flight is written and committed. */
  stop(): void;
}

export function buildPipeline(options: PipelineOptions): Pipeline {
  const { consumer, metrics, log } = options;
  const tracker = new OffsetTracker();
  const consumerConcurrency = options.consumerConcurrency ?? 1;
  const source = kafkaSource({ consumer, tracker, metrics, log });
  const committed$ = source.batches$.pipe(
    validate({ metrics, log }),
    batch({
      metrics,
      maxSpans: options.batchSize,
      maxWaitMs: options.batchTimeMs,
      upstreamBlocked: () => tracker.inFlight() >= consumerConcurrency,
      scheduler: options.scheduler,
    }),
    sink({
      writer: options.writer,
      metrics,
      log,
      concurrency: options.sinkConcurrency,
      minBackoffMs: options.minBackoffMs,
      maxBackoffMs: options.maxBackoffMs,
      signal: options.signal,
      onStorageState: options.onStorageState,
      scheduler: options.scheduler,
    }),
    commit({ consumer, tracker, metrics, log }),
  );
  return { committed$, tracker, stop: () => source.stop() };
}
