/**
 * Stage `source`: a Kafka consumer-group member as an Observable of batches.
 *
 * Each batch carries a receipt on its offset range. The consumer hands this member one batch per
 * partition at a time and waits for the handler, so the handler waits until the receipt is
 * `held` (the group stage took the spans into its bounded state) or done. The data in flight is
 * bounded by the pipeline's backpressure, which pauses the assigned partitions; the offsets are
 * committed by the commit stage, never here.
 *
 * Draining: `stop()` ends intake. Batches that arrive afterwards are not emitted and not
 * committed, so the group reads them again later; the Observable completes once the consumer's
 * handler is no longer running, letting later stages finish what is in flight.
 */
import { Observable } from 'rxjs';
import type { ConsumedBatch, SpanConsumer } from '@pintrace/kafka';
import type { Logger } from '@pintrace/runtime';
import type { CollectorMetrics } from './metrics.js';
import type { OffsetTracker } from './offset-tracker.js';
import type { SourceBatch } from './types.js';

/** The part of a consumer the source uses. */
export type SourceConsumer = Pick<SpanConsumer, 'run'>;

export interface SourceOptions {
  consumer: SourceConsumer;
  tracker: OffsetTracker;
  metrics: CollectorMetrics;
  log: Logger;
}

/** The source Observable plus the switch that ends intake. */
export interface KafkaSource {
  batches$: Observable<SourceBatch>;
  /** Stops emitting; the Observable completes when no handler call is running. */
  stop(): void;
}

export function kafkaSource(options: SourceOptions): KafkaSource {
  const { consumer, tracker, metrics, log } = options;
  const counts = metrics.stage('source', 'message');
  let stopped = false;
  let running = 0;
  let completeIfDrained: () => void = () => {};

  const batches$ = new Observable<SourceBatch>((subscriber) => {
    let active = true;
    completeIfDrained = () => {
      if (stopped && running === 0 && active) subscriber.complete();
    };
    const handle = async (batch: ConsumedBatch): Promise<void> => {
      if (!active || stopped || batch.messages.length === 0) return;
      running += 1;
      try {
        const first = BigInt(batch.messages[0].offset);
        const next = BigInt(batch.messages[batch.messages.length - 1].offset) + 1n;
        const lag = BigInt(batch.highWatermark) - next;
        metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(lag > 0n ? lag : 0n));
        counts.in(batch.messages.length);
        const receipt = tracker.open(batch.topic, batch.partition, first, next);
        metrics.inFlightBatches.inc();
        void receipt.done.then(() => metrics.inFlightBatches.dec());
        const messages = batch.messages.map((m) => ({ offset: m.offset, key: m.key, value: m.value }));
        counts.out(messages.length);
        subscriber.next({ topic: batch.topic, partition: batch.partition, messages, receipt });
        // Wait until a stage holds the batch's spans in its bounded state (group) or every span
        // is written or dropped, unless the pipeline stops first: then the batch stays
        // uncommitted and is read again after a restart. The backpressure pauses intake.
        await Promise.race([receipt.held, closed]);
      } finally {
        running -= 1;
        completeIfDrained();
      }
    };
    let markClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    consumer.run(handle).catch((err: unknown) => {
      log.error({ err }, 'consumer stopped');
      if (active) subscriber.error(err);
    });
    completeIfDrained();
    return () => {
      active = false;
      markClosed();
    };
  });

  return {
    batches$,
    stop() {
      if (stopped) return;
      stopped = true;
      completeIfDrained();
    },
  };
}
