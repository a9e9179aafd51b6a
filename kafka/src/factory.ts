import type { Logger } from '@pintrace/runtime';
import type { ConsumerOptions, KafkaClientName, ProducerOptions, SpanConsumer, SpanProducer, TopicAdmin } from './types.js';
import { KafkajsSpanConsumer, KafkajsSpanProducer, KafkajsTopicAdmin } from './kafkajs.js';
import { PlatformaticSpanProducer, PlatformaticTopicAdmin } from './platformatic.js';
import { PlatformaticSpanConsumer } from './platformatic-consumer.js';
import { resolveClient } from './options.js';

/**
 * An idempotent acks=all producer. The client library is `options.client`, else
 * PINTRACE_KAFKA_CLIENT, else the project default (docs/decisions.md).
 */
export function createProducer(options: ProducerOptions): SpanProducer {
  const client = resolveClient(options.client);
  return client === 'kafkajs' ? new KafkajsSpanProducer(options) : new PlatformaticSpanProducer(options);
}

/** A consumer-group member with manual commits; client chosen as for createProducer. */
export function createConsumer(options: ConsumerOptions): SpanConsumer {
  const client = resolveClient(options.client);
  return client === 'kafkajs' ? new KafkajsSpanConsumer(options) : new PlatformaticSpanConsumer(options);
}

export interface AdminOptions {
  client?: KafkaClientName;
  clientId?: string;
  logger?: Logger;
}

/** Topic administration and offset queries; client chosen as for createProducer. */
export function createAdmin(brokers: string[], options: AdminOptions = {}): TopicAdmin {
  const client = resolveClient(options.client);
  return client === 'kafkajs' ? new KafkajsTopicAdmin(brokers, options) : new PlatformaticTopicAdmin(brokers, options);
}
