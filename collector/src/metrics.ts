/**
 * The collector's metrics. Every stage counts what came in, what went out and what it dropped,
 * with a reason; `unit` says whether a stage counts Kafka messages or spans.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type StageName =
  | 'source' | 'validate' | 'dead_letter' | 'adjust' | 'filter' | 'group' | 'tail_sample' | 'dependencies' | 'batch' | 'sink' | 'commit';
export type Unit = 'message' | 'span';

/** The three counts of one stage. */
export interface StageMetrics {
  in(count: number, unit?: Unit): void;
  out(count: number, unit?: Unit): void;
  dropped(reason: string, count: number, unit?: Unit): void;
}

export interface CollectorMetrics {
  stage(name: StageName, defaultUnit: Unit): StageMetrics;
  /** Messages between the batch just fetched and the partition's high watermark. */
  lag: Gauge<'topic' | 'partition'>;
  consumerLag: Gauge<'topic' | 'partition'>;
  /** Last offset committed per partition (next offset to read). */
  committedOffset: Gauge<'topic' | 'partition'>;
  commitFailures: Counter<'topic'>;
  /** Latency of one bulk write as the sink sees it, including the writer's own retries. */
  bulkSeconds: Histogram<'result'>;
  /** Whole-bulk failures that the sink retries. */
  sinkRetries: Counter;
  /** Consumed batches whose offsets are not yet committable. */
  inFlightBatches: Gauge;
  /** Kafka messages validate could not decode at all, by reason (later also dead-lettered). */
  messagesUndecodable: Counter<'reason'>;
  /** Spans validate rejected, by reason. */
  spansRejected: Counter<'reason'>;
  /** Spans the sink made durable. */
  spansWritten: Counter;
  /** Traces the group stage holds open now. */
  openTraces: Gauge;
  /** Spans the group stage holds now. */
  heldSpans: Gauge;
  /** Trace groups closed, by why (inactive, max_age, max_spans_per_trace, max_open_traces, ...). */
  tracesClosed: Counter<'reason'>;
  /** 1 while intake is paused for backpressure. */
  paused: Gauge;
  /** Times intake was paused for backpressure. */
  pauses: Counter;
  /** Messages sent to the dead-letter topic. */
  deadLettered: Counter<'reason'>;
  /** Fix-ups applied, by adjuster. */
  adjusted: Counter<'adjuster'>;
  /** Dependency-link documents written and the duration of their writes. */
  dependencyDocsWritten: Counter;
  dependencySeconds: Histogram<'result'>;
}

/** Registers the collector's metrics on `registry` (names start with pintrace_collector_). */
export function createCollectorMetrics(registry: Registry): CollectorMetrics {
  const registers = [registry];
  const inTotal = new Counter({
    name: 'pintrace_collector_in_total',
    help: 'Items that entered a pipeline stage',
    labelNames: ['stage', 'unit'] as const,
    registers,
  });
  const outTotal = new Counter({
    name: 'pintrace_collector_out_total',
    help: 'Items that left a pipeline stage towards the next one',
    labelNames: ['stage', 'unit'] as const,
    registers,
  });
  const droppedTotal = new Counter({
    name: 'pintrace_collector_dropped_total',
    help: 'Items a pipeline stage dropped on purpose, by reason',
    labelNames: ['stage', 'unit', 'reason'] as const,
    registers,
  });
  return {
    stage(stage, defaultUnit) {
      return {
        in: (count, unit = defaultUnit) => {
          if (count > 0) inTotal.inc({ stage, unit }, count);
        },
        out: (count, unit = defaultUnit) => {
          if (count > 0) outTotal.inc({ stage, unit }, count);
        },
        dropped: (reason, count, unit = defaultUnit) => {
          if (count > 0) droppedTotal.inc({ stage, unit, reason }, count);
        },
      };
    },
    lag: new Gauge({
      name: 'pintrace_collector_kafka_lag',
      help: 'Messages behind the high watermark when the last batch of a partition was fetched',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    consumerLag: new Gauge({
      name: 'pintrace_collector_consumer_lag',
      help: 'Messages between the group\'s committed offset and the end of each assigned partition (probed every 10 s, also while intake is paused)',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    committedOffset: new Gauge({
      name: 'pintrace_collector_committed_offset',
      help: 'Last committed offset per partition (the next offset to read)',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    commitFailures: new Counter({
      name: 'pintrace_collector_commit_failures_total',
      help: 'Offset commits Kafka refused (retried with the next commit)',
      labelNames: ['topic'] as const,
      registers,
    }),
    bulkSeconds: new Histogram({
      name: 'pintrace_collector_bulk_seconds',
      help: 'Duration of one Elasticsearch bulk write, including the writer retries',
      labelNames: ['result'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    sinkRetries: new Counter({
      name: 'pintrace_collector_sink_retries_total',
      help: 'Bulk writes that failed as a whole and were tried again',
      registers,
    }),
    inFlightBatches: new Gauge({
      name: 'pintrace_collector_in_flight_batches',
      help: 'Consumed batches whose offsets are not yet committable',
      registers,
    }),
    messagesUndecodable: new Counter({
      name: 'pintrace_collector_messages_undecodable_total',
      help: 'Kafka messages that could not be decoded as a span list and were skipped',
      labelNames: ['reason'] as const,
      registers,
    }),
    spansRejected: new Counter({
      name: 'pintrace_collector_spans_rejected_total',
      help: 'Spans that failed validation, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    spansWritten: new Counter({
      name: 'pintrace_collector_spans_written_total',
      help: 'Spans written to storage durably',
      registers,
    }),
    openTraces: new Gauge({ name: 'pintrace_collector_open_traces', help: 'Traces the group stage holds open', registers }),
    heldSpans: new Gauge({ name: 'pintrace_collector_held_spans', help: 'Spans the group stage holds', registers }),
    tracesClosed: new Counter({
      name: 'pintrace_collector_traces_closed_total',
      help: 'Trace groups closed by the group stage, by why (bounds close early)',
      labelNames: ['reason'] as const,
      registers,
    }),
    paused: new Gauge({ name: 'pintrace_collector_paused', help: '1 while Kafka intake is paused for backpressure', registers }),
    pauses: new Counter({ name: 'pintrace_collector_pauses_total', help: 'Times Kafka intake was paused for backpressure', registers }),
    deadLettered: new Counter({
      name: 'pintrace_collector_dead_lettered_total',
      help: 'Undecodable messages sent to the dead-letter topic, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    adjusted: new Counter({
      name: 'pintrace_collector_adjusted_total',
      help: 'Spans changed by an adjuster, by adjuster',
      labelNames: ['adjuster'] as const,
      registers,
    }),
    dependencyDocsWritten: new Counter({
      name: 'pintrace_collector_dependency_docs_written_total',
      help: 'Dependency-link documents written (cumulative per day and owner, so rewrites count again)',
      registers,
    }),
    dependencySeconds: new Histogram({
      name: 'pintrace_collector_dependency_write_seconds',
      help: 'Duration of one dependency-link flush',
      labelNames: ['result'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}
