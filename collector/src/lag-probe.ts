/**
 * Consumer lag per assigned partition: the topic's end offset minus the group's committed offset,
 * asked of Kafka every `intervalMs`. The source's `kafka_lag` comes from fetch responses, so it
 * stops moving exactly when it matters, while intake is paused because Elasticsearch is slow or
 * down; this one keeps counting, and measures what a restart would have to read again.
 */
import type { SpanConsumer, TopicAdmin } from '@pintrace/kafka';
import type { Logger } from '@pintrace/runtime';
import type { CollectorMetrics } from './metrics.js';

export interface LagProbeOptions {
  admin: Pick<TopicAdmin, 'endOffsets' | 'groupOffsets'>;
  consumer: Pick<SpanConsumer, 'assignment'>;
  metrics: CollectorMetrics;
  log: Logger;
  groupId: string;
  topic: string;
  /** Default 10 s. */
  intervalMs?: number;
}

export interface LagProbe {
  /** One probe now (also what the timer runs); never rejects. */
  probe(): Promise<void>;
  stop(): void;
}

export function startLagProbe(options: LagProbeOptions): LagProbe {
  const { admin, consumer, metrics, log, groupId, topic } = options;
  let reported = new Set<number>();
  let failing = false;
  let running: Promise<void> | undefined;

  const once = async (): Promise<void> => {
    try {
      const assigned = consumer
        .assignment()
        .filter((tp) => tp.topic === topic)
        .map((tp) => tp.partition);
      const [ends, committed] = await Promise.all([admin.endOffsets(topic), admin.groupOffsets(groupId, topic)]);
      const committedBy = new Map(committed.map((c) => [c.partition, BigInt(c.offset)]));
      const now = new Set<number>();
      for (const end of ends) {
        if (!assigned.includes(end.partition)) continue;
        // nothing committed yet ("-1"): everything from the start of the log is still to do
        const from = committedBy.get(end.partition) ?? -1n;
        const lag = BigInt(end.offset) - (from < 0n ? 0n : from);
        metrics.consumerLag.set({ topic, partition: String(end.partition) }, Number(lag > 0n ? lag : 0n));
        now.add(end.partition);
      }
      // partitions another member owns now are that member's to report
      for (const partition of reported) if (!now.has(partition)) metrics.consumerLag.remove({ topic, partition: String(partition) });
      reported = now;
      if (failing) log.info('consumer lag probe works again');
      failing = false;
    } catch (err) {
      if (!failing) log.warn({ err }, 'consumer lag probe failed; the last values stay until it works again');
      failing = true;
    }
  };

  const probe = (): Promise<void> => {
    running ??= once().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void probe(), options.intervalMs ?? 10_000);
  timer.unref();
  return { probe, stop: () => clearInterval(timer) };
}
