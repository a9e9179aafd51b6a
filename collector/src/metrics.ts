/**
 * The collector's metrics. Every stage counts what came in, what went out and what it dropped,
 * with a reason; `unit` says whether a stage counts Kafka messages or spans.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type StageName =
  | 'source'
  | 'validate'
  | 'dead_letter'
  | 'adjust'
  | 'filter'
  | 'red'
  | 'group'
  | 'tail_sample'
  | 'dependencies'
  | 'batch'
  | 'sink'
  | 'commit';
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
  /** Resubmissions the span writer reported while writing the sink's batches. */
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

/** Buckets of the write-duration histograms, in seconds. */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Registers the collector's metrics on `registry` (names start with pintrace_collector_). */
export function createCollectorMetrics(registry: Registry): CollectorMetrics {
  const registers = [registry];
  const named = (name: string) => `pintrace_collector_${name}`;
  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name: named(name), help, labelNames, registers });
  const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name: named(name), help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Histogram<L>({ name: named(name), help, labelNames, buckets: SECONDS, registers });
  const inTotal = counter('in_total', 'Items that entered a pipeline stage', ['stage', 'unit']);
  const outTotal = counter('out_total', 'Items that left a pipeline stage towards the next one', ['stage', 'unit']);
  const droppedTotal = counter('dropped_total', 'Items a pipeline stage dropped on purpose, by reason', ['stage', 'unit', 'reason']);
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
    lag: gauge('kafka_lag', 'Messages behind the high watermark when the last batch of a partition was fetched', ['topic', 'partition']),
    consumerLag: gauge(
      'consumer_lag',
      "Messages between the group's committed offset and the end of each assigned partition (probed every 10 s, also while intake is paused)",
      ['topic', 'partition'],
    ),
    committedOffset: gauge('committed_offset', 'Last committed offset per partition (the next offset to read)', ['topic', 'partition']),
    commitFailures: counter('commit_failures_total', 'Offset commits Kafka refused (retried with the next commit)', ['topic']),
    inFlightBatches: gauge('in_flight_batches', 'Consumed batches whose offsets are not yet committable'),
    messagesUndecodable: counter('messages_undecodable_total', 'Kafka messages that could not be decoded as a span list and were skipped', ['reason']),
    spansRejected: counter('spans_rejected_total', 'Spans that failed validation, by reason', ['reason']),
    deadLettered: counter('dead_lettered_total', 'Undecodable messages sent to the dead-letter topic, by reason', ['reason']),
    adjusted: counter('adjusted_total', 'Spans changed by an adjuster, by adjuster', ['adjuster']),
    openTraces: gauge('open_traces', 'Traces the group stage holds open'),
    heldSpans: gauge('held_spans', 'Spans the group stage holds'),
    tracesClosed: counter('traces_closed_total', 'Trace groups closed by the group stage, by why (bounds close early)', ['reason']),
    paused: gauge('paused', '1 while Kafka intake is paused for backpressure'),
    pauses: counter('pauses_total', 'Times Kafka intake was paused for backpressure'),
    sinkRetries: counter('sink_retries_total', 'Bulk writes the span writer resubmitted (whole, or the items that failed transiently)'),
    bulkSeconds: histogram('bulk_seconds', 'Duration of one Elasticsearch bulk write, including the writer retries', ['result']),
    spansWritten: counter('spans_written_total', 'Spans written to storage durably'),
    dependencyDocsWritten: counter(
      'dependency_docs_written_total',
      'Dependency-link documents written (cumulative per day and owner, so rewrites count again)',
    ),
    dependencySeconds: histogram('dependency_write_seconds', 'Duration of one dependency-link flush', ['result']),
  };
}
