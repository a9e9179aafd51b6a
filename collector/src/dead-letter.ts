/**
 * Stage `dead_letter`: sends the messages validate could not decode to a dead-letter topic, with
 * headers saying where they came from and why, before their offsets may be committed; then the
 * batch goes on without them. A send that fails is retried with backoff (the partition waits,
 * nothing is lost); with no topic configured the messages are only counted (already logged by
 * validate). Either way a poison message never stalls its partition.
 */
import { hostname } from 'node:os';
import { concatMap, defer, from, map, of, retry, timer, type OperatorFunction } from 'rxjs';
import type { KafkaMessage } from '@pintrace/kafka';
import { deadLetterHeaders } from '@pintrace/model';
import { backoffDelayMs, type Logger } from '@pintrace/runtime';
import type { CollectorMetrics } from './metrics.js';
import type { SpanBatch } from './types.js';

/** The part of a producer the stage uses. */
export interface DeadLetterProducer {
  send(topic: string, messages: KafkaMessage[]): Promise<void>;
}

export interface DeadLetterOptions {
  /** Undefined: count only. */
  producer?: DeadLetterProducer;
  topic?: string;
  metrics: CollectorMetrics;
  log: Logger;
  maxBackoffMs?: number;
}

export function deadLetter(options: DeadLetterOptions): OperatorFunction<SpanBatch, SpanBatch> {
  const { producer, topic, metrics, log } = options;
  const counts = metrics.stage('dead_letter', 'message');
  const maxBackoff = options.maxBackoffMs ?? 10_000;
  const host = hostname();
  return concatMap((batch: SpanBatch) => {
    const { deadLetters: letters, ...rest } = batch;
    if (letters === undefined || letters.length === 0) return of(batch);
    // The batch goes on without its letters; the input is left as it came.
    const passed: SpanBatch = rest;
    counts.in(letters.length);
    if (producer === undefined || topic === undefined) {
      counts.dropped('no_dead_letter_topic', letters.length);
      return of(passed);
    }
    const messages: KafkaMessage[] = letters.map((l) => ({
      key: l.key,
      value: l.value,
      headers: deadLetterHeaders({
        rejectedBy: 'collector',
        reason: l.reason,
        host,
        bytes: l.value.length,
        topic: l.topic,
        partition: l.partition,
        offset: l.offset,
      }),
    }));
    return defer(() => from(producer.send(topic, messages))).pipe(
      retry({
        delay: (err: unknown, attempt: number) => {
          const wait = backoffDelayMs(attempt, { initialMs: 100, maxMs: maxBackoff });
          log.warn({ err, attempt, topic, messages: messages.length, retryInMs: wait }, 'dead-letter send failed; retrying');
          return timer(wait);
        },
      }),
      map(() => {
        for (const l of letters) metrics.deadLettered.inc({ reason: l.reason });
        counts.out(letters.length);
        return passed;
      }),
    );
  });
}
