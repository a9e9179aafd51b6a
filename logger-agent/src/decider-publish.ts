import os from 'node:os';
import { createAdmin, createProducer } from '@pintrace/kafka';
import type { KafkaConnection, Logger } from '@pintrace/runtime';
import { DECIDER_TOPIC_CONFIG, DEFAULT_DECIDER_TOPIC, isDeciderValue, normalizeDeciderName, DeciderFormatError } from '@pintrace/sampler';

export { DEFAULT_DECIDER_TOPIC };

export interface PublishDeciderOptions {
  kafka: KafkaConnection;
  topic?: string;
  /** Give up after this long when Kafka does not answer (default 15 s). */
  timeoutMs?: number;
  /** Where the Kafka client's own log lines go (default a "kafka" component logger). */
  logger?: Logger;
}

/**
 * `pintrace decider set|unset NAME --fleet`: publishes one decider value to the compacted fleet
 * topic (created on first use: one partition, cleanup.policy=compact), keyed by the lower-case
 * name; `undefined` publishes a tombstone that removes the name everywhere. Every agent mirroring
 * the topic writes it into its host's decider file. Resolves once Kafka acknowledged it (acks=all).
 */
export async function publishDeciderValue(name: string, value: number | undefined, o: PublishDeciderOptions): Promise<{ name: string; topic: string }> {
  const key = normalizeDeciderName(name);
  if (value !== undefined && !isDeciderValue(value)) {
    throw new DeciderFormatError(`decider ${key}: value must be a number of percent from 0 to 100 (fractions allowed, e.g. 0.3), got ${String(value)}`);
  }
  const topic = o.topic ?? DEFAULT_DECIDER_TOPIC;
  const timeoutMs = o.timeoutMs ?? 15_000;
  const clientId = `pintrace-decider-cli-${os.hostname()}`;
  const admin = createAdmin(o.kafka.brokers, { client: o.kafka.client, security: o.kafka.security, clientId, logger: o.logger });
  const producer = createProducer({ ...o.kafka, clientId, requestTimeoutMs: timeoutMs, autoCreateTopics: false, logger: o.logger });
  const work = (async () => {
    await admin.ensureTopic(topic, 1, { ...DECIDER_TOPIC_CONFIG });
    await producer.connect();
    await producer.send(topic, [{ key, value: value === undefined ? null : String(value) }]);
  })();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Kafka at ${o.kafka.brokers.join(',')} did not acknowledge within ${timeoutMs} ms; nothing was published`)),
          timeoutMs,
        );
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.close().catch(() => undefined);
  }
  return { name: key, topic };
}
