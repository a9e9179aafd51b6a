/**
 * Stage `commit`: releases the holds of batches the sink wrote (or that held nothing to write)
 * and commits, per partition, the end of the longest run of finished batches in offset order.
 *
 * Commits are serialised, one request at a time, and coalesce whatever became committable while
 * the previous one was running. A refused commit (a rebalance, say) is not fatal: its offsets go
 * back to the tracker and ride along with the next commit; at worst a restart reads some spans
 * again, which the storage's deterministic document ids make harmless.
 */
import { concatMap, EMPTY, from, tap, pipe, type OperatorFunction } from 'rxjs';
import type { SpanConsumer } from '@pintrace/kafka';
import type { Logger } from '@pintrace/runtime';
import type { CollectorMetrics } from './metrics.js';
import type { OffsetTracker } from './offset-tracker.js';
import type { CommittedOffset, SpanBatch } from './types.js';

/** The part of a consumer the commit stage uses. */
export type CommitConsumer = Pick<SpanConsumer, 'commit'>;

export interface CommitOptions {
  consumer: CommitConsumer;
  tracker: OffsetTracker;
  metrics: CollectorMetrics;
  log: Logger;
  /** Told how many spans each finished batch held (they leave the backpressure count). */
  onFinished?: (spans: number) => void;
}

/** Commits whatever is committable now; resolves with what Kafka accepted (empty on failure). */
export async function commitReady(options: CommitOptions): Promise<CommittedOffset[]> {
  const { consumer, tracker, metrics, log } = options;
  const offsets = tracker.takeCommittable();
  if (offsets.length === 0) return [];
  try {
    await consumer.commit(offsets);
  } catch (err) {
    tracker.commitFailed(offsets);
    for (const topic of new Set(offsets.map((o) => o.topic))) metrics.commitFailures.inc({ topic });
    log.warn({ err, offsets }, 'offset commit failed; retrying with the next commit');
    return [];
  }
  for (const o of offsets) {
    metrics.committedOffset.set({ topic: o.topic, partition: String(o.partition) }, Number(o.offset));
  }
  log.debug({ offsets }, 'offsets committed');
  return offsets;
}

export function commit(options: CommitOptions): OperatorFunction<SpanBatch, CommittedOffset[]> {
  const counts = options.metrics.stage('commit', 'span');
  return pipe(
    tap((batch: SpanBatch) => {
      counts.in(batch.spans.length);
      for (const receipt of batch.receipts) receipt.release();
      counts.out(batch.spans.length);
      options.onFinished?.(batch.spans.length);
    }),
    concatMap(() => from(commitReady(options)).pipe(concatMap((offsets) => (offsets.length ? [offsets] : EMPTY)))),
  );
}
