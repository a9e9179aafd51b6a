import type { Logger } from '@pintrace/runtime';
import type { ConsumerOptions, KafkaClientName, ProducerOptions, SpanConsumer, SpanProducer, TopicAdmin } from './types.js';
import { KafkajsSpanConsumer, KafkajsSpanProducer, KafkajsTopicAdmin } from './kafkajs.js';
import { resolveClient } from './options.js';
import { configError } from './errors.js';

/**
 * An idempotent acks=all producer. The client library is `options.client`, else
 * PINTRACE_KAFKA_CLIENT, else the project default (docs/decisions.md).
 */
export function createProducer(options: ProducerOptions): SpanProducer {
  const client = resolveClient(options.client);
  if (client === 'kafkajs') return new KafkajsSpanProducer(options);
  throw configError(`client "${client}" is not available yet`);
}

/** A consumer-group member with manual commits; client chosen as for createProducer. */
export function createConsumer(options: ConsumerOptions): SpanConsumer {
  const client = resolveClient(options.client);
  if (client === 'kafkajs') return new KafkajsSpanConsumer(options);
  throw configError(`client "${client}" is not available yet`);
}

export interface AdminOptions {
  client?: KafkaClientName;
  clientId?: string;
  logger?: Logger;
}

/** Topic administration and offset queries; client chosen as for createProducer. */
export function createAdmin(brokers: string[], options: AdminOptions = {}): TopicAdmin {
  const client = resolveClient(options.client);
  if (client === 'kafkajs') return new KafkajsTopicAdmin(brokers, options);
  throw configError(`client "${client}" is not available yet`);
}
