import type { KafkaSecurity, Logger } from '@pintrace/runtime';
import type { ConsumerOptions, KafkaClientName, ProducerOptions, SpanConsumer, SpanProducer, TopicAdmin } from './types.js';
import { KafkajsSpanConsumer, KafkajsSpanProducer, KafkajsTopicAdmin } from './kafkajs.js';
import { PlatformaticSpanProducer, PlatformaticTopicAdmin } from './platformatic.js';
import { PlatformaticSpanConsumer } from './platformatic-consumer.js';
import { LibrdkafkaSpanProducer, librdkafkaAvailable, librdkafkaLoadError } from './librdkafka.js';
import { kafkaLogger } from './log.js';
import { DEFAULT_PRODUCER_CLIENT, resolveClient } from './options.js';

let warnedFallback = false;

/**
 * An idempotent acks=all producer. The client library is `options.client`, else
 * PINTRACE_KAFKA_CLIENT, else the project's producer default, librdkafka (docs/decisions.md, D2).
 * When that default is not installed (its native build failed or was skipped) kafkajs produces
 * instead, with one warning; a client asked for by name is never replaced.
 */
export function createProducer(options: ProducerOptions): SpanProducer {
  const client = resolveClient(options.client, process.env, DEFAULT_PRODUCER_CLIENT);
  const named = options.client !== undefined || (process.env.PINTRACE_KAFKA_CLIENT ?? '') !== '';
  if (client === 'librdkafka' && (named || librdkafkaAvailable())) return new LibrdkafkaSpanProducer(options);
  if (client === 'librdkafka') {
    if (!warnedFallback) {
      warnedFallback = true;
      kafkaLogger(options.logger).warn({ err: librdkafkaLoadError() }, 'librdkafka binding not available; producing with kafkajs');
    }
    return new KafkajsSpanProducer(options);
  }
  return client === 'kafkajs' ? new KafkajsSpanProducer(options) : new PlatformaticSpanProducer(options);
}

/** Consumers exist for kafkajs and platformatic; 'librdkafka' is producer-only here, so it consumes with kafkajs. */
const consumerClient = (client: KafkaClientName): KafkaClientName => (client === 'librdkafka' ? 'kafkajs' : client);

/** A consumer-group member with manual commits; client as for createProducer, default kafkajs. */
export function createConsumer(options: ConsumerOptions): SpanConsumer {
  const client = consumerClient(resolveClient(options.client));
  return client === 'kafkajs' ? new KafkajsSpanConsumer(options) : new PlatformaticSpanConsumer(options);
}

export interface AdminOptions {
  client?: KafkaClientName;
  /** TLS and SASL settings; default PLAINTEXT. */
  security?: KafkaSecurity;
  clientId?: string;
  logger?: Logger;
}

/** Topic administration and offset queries; client chosen as for createConsumer. */
export function createAdmin(brokers: string[], options: AdminOptions = {}): TopicAdmin {
  const client = consumerClient(resolveClient(options.client));
  return client === 'kafkajs' ? new KafkajsTopicAdmin(brokers, options) : new PlatformaticTopicAdmin(brokers, options);
}
