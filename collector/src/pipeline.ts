/**
 * The collector's pipeline, Pintrace's diagram as one operator per stage:
 *
 *   source → validate → dead_letter → adjust → filter → [red] → group (by trace) → [tail_sample] →
 *   [dependencies] → ungroup → batch → sink → commit
 *
 * or, without tail sampling and with a group window, spans written before grouping:
 *
 *   … → filter ─┬─────────────────────────────────────────────→ batch → sink → commit
 *               └→ group → [dependencies] → ungroup (holds only) ↗
 *
 * Each stage returns new batches and leaves its input alone, so one batch can feed both branches.
 * Offsets ride along as receipts: a stage that drops spans keeps the batch's receipts flowing,
 * the early write takes a hold of its own, the group stage a hold per trace, the dependency stage
 * one until its links are durable, so an offset is committed only after every span from it was
 * written or dropped on purpose. The state that outlives a batch is explicit: the open traces
 * (`TraceGroups`) and the link totals (`DependencyTotals`) are values created here, which a
 * rebalance revokes. The spans between intake and commit are bounded by the backpressure, which
 * pauses the assigned partitions above `maxHeldSpans` and resumes below half of it.
 */
import { connect, map, merge, pipe, tap, type Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { SpanConsumer } from '@pintrace/kafka';
import type { Logger } from '@pintrace/runtime';
import { adjust } from './adjust.js';
import { aggregateRed, type RedWindowSink } from './aggregate-red.js';
import type { SpanAdjuster } from './adjusters/span-adjuster.js';
import { Backpressure } from './backpressure.js';
import { batch } from './batch.js';
import { commit } from './commit.js';
import { deadLetter, type DeadLetterProducer } from './dead-letter.js';
import { DependencyTotals, linkDependencies, type DependencyStore } from './dependencies.js';
import { filterSpans, type FilterRule } from './filter-spans.js';
import { groupByTrace, partitionKey, TraceGroups } from './group-by-trace.js';
import type { CollectorMetrics } from './metrics.js';
import { OffsetTracker } from './offset-tracker.js';
import type { RedMetrics } from './red-metrics.js';
import type { RedWindows } from './red-windows.js';
import { sink, type SinkWriter } from './sink.js';
import { kafkaSource } from './source.js';
import { tailSample } from './tail-sample.js';
import type { CommittedOffset, SpanBatch, TraceBatch } from './types.js';
import { ungroup } from './ungroup.js';
import { validate } from './validate.js';

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
  /** Owns bulk size, bulk requests in flight and retries; the batch stage fills its bulks. */
  writer: SinkWriter;
  metrics: CollectorMetrics;
  log: Logger;
  /** Longest a span waits for others to share its bulk request. */
  batchTimeMs: number;
  /**
   * Batches the consumer hands over at once (the kafkajs consumer: 1). Without a group window,
   * once that many are in flight nothing more can arrive, so the batch stage stops waiting for
   * company. Default 1.
   */
  consumerConcurrency?: number;
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
  /** RED windows (time-window analytics) after the filter; off when undefined. */
  red?: { windows: RedWindows; metrics: RedMetrics; store?: RedWindowSink };
  /** Dead-letter topic and producer; count-only when undefined. */
  deadLetter?: { producer: DeadLetterProducer; topic: string };
  /** Aborts the writer's retries (the pipeline then errors and commits nothing more). */
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
  const { consumer, metrics, log, scheduler } = options;
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
  const settings = options.group ?? { inactivityMs: 0, maxSpansPerTrace: 10_000, maxOpenTraces: 50_000 };
  const groups = new TraceGroups({
    metrics,
    ...settings,
    // The group keeps well below the resume mark (half of maxHeldSpans), closing its least
    // recently active traces early, so intake never waits for a window once the writes drain.
    maxHeldSpans: Math.max(1, Math.floor(maxHeldSpans * 0.4)),
  });
  const links = options.dependencies ? new DependencyTotals({ store: options.dependencies.store, groupId: options.dependencies.groupId, metrics }) : undefined;
  const source = kafkaSource({ consumer, tracker, metrics, log });

  const checked$ = source.batches$.pipe(
    validate({ metrics, log }),
    deadLetter({ producer: options.deadLetter?.producer, topic: options.deadLetter?.topic, metrics, log }),
    adjust({ adjusters: options.adjusters ?? [], metrics, log }),
    filterSpans({ rules: options.filters ?? [], metrics }),
    options.red ? aggregateRed(options.red.windows, { metrics, red: options.red.metrics, log, store: options.red.store, scheduler }) : same(),
    // From here until their write (or drop) the spans count against the backpressure mark.
    tap((b: SpanBatch) => backpressure.add(b.spans.length)),
  );
  const group: OperatorFunction<SpanBatch, TraceBatch> = pipe(
    groupByTrace(groups, { metrics, scheduler }),
    options.tailSample ? tailSample({ metrics, ...options.tailSample, onSpansDropped: (n) => backpressure.remove(n) }) : same(),
    links ? linkDependencies(links, { metrics, log, flushMs: options.dependencies?.flushMs }) : same(),
  );
  // Without tail sampling nothing decides about a span after the filter: its document can be
  // written at once, and the group only has to see whole traces for the dependency links. So the
  // spans go to the sink straight away, and the closed traces follow with their holds only; an
  // offset is still committed only once its spans are written and its traces' links are durable.
  // (Writing after the group made every span wait out the inactivity window: in a burst, the last
  // traces sat there for the whole window with the sink idle.)
  const writeEarly = settings.inactivityMs > 0 && !options.tailSample;
  const toWrite$: Observable<SpanBatch> = writeEarly
    ? checked$.pipe(
        // Both branches subscribe before the source runs, so the group sees every batch written.
        // The write takes its hold first: the group releases the batch's own once its traces hold it.
        connect((batches$) => merge(batches$.pipe(map(withWriteHold)), batches$.pipe(group, ungroup({ spans: false })))),
      )
    : checked$.pipe(group, ungroup());

  const committed$ = toWrite$.pipe(
    batch({
      metrics,
      maxSpans: options.writer.maxBatchSpans,
      maxWaitMs: options.batchTimeMs,
      upstreamBlocked: () => backpressure.paused || (settings.inactivityMs === 0 && tracker.inFlight() >= (options.consumerConcurrency ?? 1)),
      scheduler,
    }),
    sink({ writer: options.writer, metrics, log, signal: options.signal, onStorageState: options.onStorageState }),
    commit({ consumer, tracker, metrics, log, onFinished: (n) => backpressure.remove(n) }),
  );
  return {
    committed$,
    tracker,
    backpressure,
    openTraces: () => groups.size,
    retainOnly(assigned) {
      tracker.retainOnly(assigned);
      const keep = new Set(assigned.map((tp) => partitionKey(tp.topic, tp.partition)));
      const forgotten = groups.revoke(keep);
      if (forgotten > 0) backpressure.remove(forgotten);
      links?.revoke(keep);
      backpressure.reapply();
    },
    stop: () => source.stop(),
  };
}

/** A stage left out. */
function same<T>(): OperatorFunction<T, T> {
  return (source) => source;
}

/** The batch as the early write's own: one more hold on each receipt, released by the commit. */
function withWriteHold(b: SpanBatch): SpanBatch {
  for (const r of b.receipts) r.retain();
  return b;
}
