/**
 * One wrapper counts every batch stage, as the OpenTelemetry Collector's processorhelper does:
 * the stage itself is a function of a batch that returns a new batch (never changing its input)
 * and reports what it dropped; `stage` counts what went in, what came out and the drops by
 * reason, under `dropped_total{stage,unit,reason}`.
 *
 * Sizes: a source batch counts its Kafka messages (unit `message`), a span batch its spans (unit
 * `span`), whatever unit the stage names for its drops.
 */
import { map, type OperatorFunction } from 'rxjs';
import type { CollectorMetrics, StageName, Unit } from './metrics.js';
import type { SourceBatch, SpanBatch } from './types.js';

/** Records `count` items dropped on purpose for `reason`, in the stage's unit unless `unit` says. */
export type Drop = (reason: string, count: number, unit?: Unit) => void;

/** A stage's work on one batch: returns a new batch and reports its drops through `drop`. */
export type StageFunction<In, Out> = (batch: In, drop: Drop) => Out;

type Batch = SourceBatch | SpanBatch;

function size(batch: Batch): [number, Unit] {
  return 'messages' in batch ? [batch.messages.length, 'message'] : [batch.spans.length, 'span'];
}

export function stage<In extends Batch, Out extends Batch>(
  metrics: CollectorMetrics,
  name: StageName,
  unit: Unit,
  fn: StageFunction<In, Out>,
): OperatorFunction<In, Out> {
  const counts = metrics.stage(name, unit);
  const drop: Drop = (reason, count, dropUnit) => counts.dropped(reason, count, dropUnit);
  return map((batch: In): Out => {
    counts.in(...size(batch));
    const out = fn(batch, drop);
    counts.out(...size(out));
    return out;
  });
}
