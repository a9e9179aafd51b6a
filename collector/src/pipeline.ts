/**
 * The collector's pipeline, one operator per stage:
 *
 *   source → validate → dead_letter → adjust → filter → group (by trace) → [tail_sample] →
 *   [dependencies] → ungroup → batch → sink → commit
 *
 * or, without tail sampling and with a group window, spans written before grouping:
 *
 *   … → filter ─┬─────────────────────────────────────────────→ batch → sink → commit
 *               └→ group → [dependencies] → ungroup (holds only) ↗
 *
 * Offsets ride along as receipts: a stage that drops spans keeps the batch's receipts flowing,
 * the group stage keeps a hold per trace, the dependency stage one until its links are durable,
 * so an offset is committed only after every span from it was written or dropped on purpose.
 * The spans between intake and commit are bounded by the backpressure, which pauses the
 * assigned partitions above `maxHeldSpans` and resumes below half of it.
 */
import { map, merge, Subject, tap, type Observable, type SchedulerLike } from 'rxjs';
import type { SpanConsumer } from '@pintrace/kafka';
import type { Logger } from '@pintrace/runtime';
import { adjust } from './adjust.js';
import type { SpanAdjuster } from './adjusters/span-adjuster.js';
import { Backpressure } from './backpressure.js';
import { batch } from './batch.js';
import { commit } from './commit.js';
import { deadLetter, type DeadLetterProducer } from './dead-letter.js';
import { dependencies, type DependencyStore } from './dependencies.js';
import { filter, type FilterRule } from './filter.js';
import { groupByTrace, partitionKey } from './group-by-trace.js';
import type { CollectorMetrics } from './metrics.js';
import { OffsetTracker } from './offset-tracker.js';
import { sink, type SinkWriter } from './sink.js';
import { kafkaSource } from './source.js';
import { tailSample } from './tail-sample.js';
import type { CommittedOffset, SpanBatch, TraceBatch } from './types.js';
import { ungroup } from './ungroup.js';
import { validate } from './validate.js';
import type { OperatorFunction } from 'rxjs';

export interface GroupSettings {
  /** Inactivity window; 0 = group within each batch only. */
  inactivityMs: number;
  maxAgeMs?: number;
  maxSpansPerTrace: number;
  maxOpenTraces: number;
}

export interface TailSampleSettings {
  rate: number;
  latencyThresholdUs?: number;
  decisionCacheSize?: number;
}

export interface PipelineOptions {
  consumer: Pick<SpanConsumer, 'run' | 'commit' | 'pause' | 'resume' | 'assignment'>;
  writer: SinkWriter;
  metrics: CollectorMetrics;
  log: Logger;
  /** Most spans per bulk request. */
  batchSize: number;
  /** Longest a span waits for others to share its bulk request. */
  batchTimeMs: number;
  /**
   * Batches the consumer hands over at once (the kafkajs consumer: 1). Without a group window,
   * once that many are in flight nothing more can arrive, so the batch stage stops waiting for
   * company. Default 1.
   */
  consumerConcurrency?: number;
  /** Bulk requests in flight at once; default 2. */
  sinkConcurrency?: number;
  /** Spans between intake and commit above which intake pauses; default 50000. */
  maxHeldSpans?: number;
  /** Default: inactivity 0 (group per batch), 10000 spans per trace, 50000 open traces. */
  group?: GroupSettings;
  adjusters?: readonly SpanAdjuster[];
  filters?: readonly FilterRule[];
  /** Tail sampling; off when undefined. */
  tailSample?: TailSampleSettings;
  /** Dependency links; off when undefined. */
  dependencies?: { store: DependencyStore; groupId: string; flushMs?: number };
  /** Dead-letter topic and producer; count-only when undefined. */
  deadLetter?: { producer: DeadLetterProducer; topic: string };
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
  backpressure: Backpressure;
  /** Forget in-flight state of partitions no longer assigned (without committing it). */
  retainOnly(assigned: Array<{ topic: string; partition: number }>): void;
  /** Open traces in the group stage. */
  openTraces(): number;
  /** Ends intake; `committed$` completes once what was in flight is written and committed. */
  stop(): void;
}

export function buildPipeline(options: PipelineOptions): Pipeline {
  const { consumer, metrics, log } = options;
  const tracker = new OffsetTracker();
  const maxHeldSpans = options.maxHeldSpans ?? 50_000;
  const backpressure = new Backpressure({
    highWater: maxHeldSpans,
    metrics,
    onPause: () => {
      const assigned = consumer.assignment();
      log.info({ heldSpans: backpressure.spans, partitions: assigned.length }, 'backpressure: pausing intake');
      consumer.pause(assigned);
    },
    onResume: () => {
      log.info({ heldSpans: backpressure.spans }, 'backpressure: resuming intake');
      consumer.resume(consumer.assignment());
    },
  });
  const consumerConcurrency = options.consumerConcurrency ?? 1;
  const group = options.group ?? { inactivityMs: 0, maxSpansPerTrace: 10_000, maxOpenTraces: 50_000 };
  const grouper = groupByTrace({
    metrics,
    inactivityMs: group.inactivityMs,
    maxAgeMs: group.maxAgeMs,
    maxSpansPerTrace: group.maxSpansPerTrace,
    maxOpenTraces: group.maxOpenTraces,
    // The group keeps well below the resume mark (half of maxHeldSpans), closing its least
    // recently active traces early, so intake never waits for a window once the writes drain.
    maxHeldSpans: Math.max(1, Math.floor(maxHeldSpans * 0.4)),
    onSpansIn: (n) => backpressure.add(n),
    onSpansForgotten: (n) => backpressure.remove(n),
    scheduler: options.scheduler,
  });
  const links = options.dependencies
    ? dependencies({ store: options.dependencies.store, groupId: options.dependencies.groupId, flushMs: options.dependencies.flushMs, metrics, log })
    : undefined;
  const identity: OperatorFunction<TraceBatch, TraceBatch> = (s) => s;
  const source = kafkaSource({ consumer, tracker, metrics, log });
  const checked$ = source.batches$.pipe(
    validate({ metrics, log }),
    deadLetter({ producer: options.deadLetter?.producer, topic: options.deadLetter?.topic, metrics, log }),
    adjust({ adjusters: options.adjusters ?? [], metrics, log }),
    filter({ rules: options.filters ?? [], metrics }),
  );
  // Without tail sampling nothing decides about a span after the filter: its document can be
  // written at once, and the group only has to see whole traces for the dependency links. So the
  // spans go to the sink straight away, and the closed traces follow with their holds only; an
  // offset is still committed only once its spans are written and its traces' links are durable.
  // (Writing after the group made every span wait out the inactivity window: in a burst, the last
  // traces sat there for the whole window with the sink idle.)
  const writeEarly = group.inactivityMs > 0 && !options.tailSample;
  let toWrite$: Observable<SpanBatch>;
  if (writeEarly) {
    // The group branch listens before the source is subscribed (merge subscribes in order), so
    // no batch can reach the writer without the group seeing it too.
    const toGroup = new Subject<SpanBatch>();
    const linked$ = toGroup.pipe(grouper.operator, links ? links.operator : identity, ungroup({ spans: false }));
    const written$ = checked$.pipe(
      tap({
        next: (b: SpanBatch) => {
          for (const r of b.receipts) r.retain(); // the early write's hold, before the group releases the batch's own
          toGroup.next(b);
        },
        error: (err: unknown) => toGroup.error(err),
        complete: () => toGroup.complete(),
      }),
      map((b): SpanBatch => ({ spans: [...b.spans], receipts: [...b.receipts] })),
    );
    toWrite$ = merge(linked$, written$);
  } else {
    toWrite$ = checked$.pipe(
      grouper.operator,
      options.tailSample
        ? tailSample({ metrics, ...options.tailSample, onSpansDropped: (n) => backpressure.remove(n) })
        : identity,
      links ? links.operator : identity,
      ungroup(),
    );
  }
  const committed$ = toWrite$.pipe(
    batch({
      metrics,
      maxSpans: options.batchSize,
      maxWaitMs: options.batchTimeMs,
      upstreamBlocked: () => backpressure.paused || (group.inactivityMs === 0 && tracker.inFlight() >= consumerConcurrency),
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
    commit({ consumer, tracker, metrics, log, onFinished: (n) => backpressure.remove(n) }),
  );
  return {
    committed$,
    tracker,
    backpressure,
    openTraces: () => grouper.openTraces(),
    retainOnly(assigned) {
      tracker.retainOnly(assigned);
      const keep = new Set(assigned.map((tp) => partitionKey(tp.topic, tp.partition)));
      grouper.revoke(keep);
      links?.revoke(keep);
      backpressure.reapply();
    },
    stop: () => source.stop(),
  };
}
