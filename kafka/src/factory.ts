import type { KafkaSecurity, Logger } from '@pintrace/runtime';
import type { ConsumerOptions, KafkaClientName, ProducerOptions, SpanConsumer, SpanProducer, TopicAdmin } from './types.js';
import { KafkajsSpanConsumer, KafkajsSpanProducer, KafkajsTopicAdmin } from './kafkajs.js';
import { LibrdkafkaSpanProducer } from './librdkafka.js';
import { LibrdkafkaSpanConsumer } from './librdkafka-consumer.js';
import { LibrdkafkaTopicAdmin } from './librdkafka-admin.js';
import { librdkafkaAvailable, librdkafkaLoadError } from './librdkafka-base.js';
import { kafkaLogger } from './log.js';
import { resolveClient } from './options.js';

let warnedFallback = false;

/**
 * The client for one producer, consumer or admin: the one named in the options, else the
 * project's default, librdkafka (docs/decisions.md, D6). When librdkafka is the default but its
 * native binding is not installed (the build failed or was skipped), kafkajs stands in, with one
 * warning; a client named explicitly is never replaced (its constructor throws KAFKA_CONFIG).
 */
function pick(client: KafkaClientName | undefined, logger: Logger | undefined): KafkaClientName {
  const resolved = resolveClient(client);
  if (resolved !== 'librdkafka' || client !== undefined || librdkafkaAvailable()) return resolved;
  if (!warnedFallback) {
    warnedFallback = true;
    kafkaLogger(logger).warn({ err: librdkafkaLoadError() }, 'librdkafka binding not available; using the kafkajs client');
  }
  return 'kafkajs';
}

/** An idempotent acks=all producer. */
export function createProducer(options: ProducerOptions): SpanProducer {
  return pick(options.client, options.logger) === 'librdkafka' ? new LibrdkafkaSpanProducer(options) : new KafkajsSpanProducer(options);
}

/** A consumer-group member with manual commits. */
export function createConsumer(options: ConsumerOptions): SpanConsumer {
  return pick(options.client, options.logger) === 'librdkafka' ? new LibrdkafkaSpanConsumer(options) : new KafkajsSpanConsumer(options);
}

export interface AdminOptions {
  /** Client library; default the project's choice (as createProducer). */
  client?: KafkaClientName;
  /** TLS and SASL settings; default PLAINTEXT. A client that cannot honour them refuses to start. */
  security?: KafkaSecurity;
  clientId?: string;
  logger?: Logger;
}

/** Topic administration and offset queries. */
export function createAdmin(brokers: string[], options: AdminOptions = {}): TopicAdmin {
  return pick(options.client, options.logger) === 'librdkafka' ? new LibrdkafkaTopicAdmin(brokers, options) : new KafkajsTopicAdmin(brokers, options);
}
