export { createProducer, createConsumer, createAdmin } from './factory.js';
export type { AdminOptions } from './factory.js';
export { KafkajsSpanProducer, KafkajsSpanConsumer, KafkajsTopicAdmin } from './kafkajs.js';
export { PlatformaticSpanProducer, PlatformaticTopicAdmin } from './platformatic.js';
export { PlatformaticSpanConsumer } from './platformatic-consumer.js';
export { LibrdkafkaSpanProducer, librdkafkaAvailable } from './librdkafka.js';
export { KafkaClientError, toKafkaError } from './errors.js';
export type { KafkaErrorCode } from './errors.js';
export { resolveClient, DEFAULT_CLIENT, DEFAULT_PRODUCER_CLIENT, CLIENT_NAMES, CONSUMER_CLIENT_NAMES } from './options.js';
export type {
  KafkaClientName,
  KafkaMessage,
  ProducerOptions,
  SpanProducer,
  ConsumedMessage,
  ConsumedBatch,
  ConsumerOptions,
  TopicPartition,
  SpanConsumer,
  TopicAdmin,
} from './types.js';
