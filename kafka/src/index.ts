export { createProducer, createConsumer, createAdmin } from './factory.js';
export type { AdminOptions } from './factory.js';
export { KafkajsSpanProducer, KafkajsSpanConsumer, KafkajsTopicAdmin } from './kafkajs.js';
export { LibrdkafkaSpanProducer } from './librdkafka.js';
export { LibrdkafkaSpanConsumer } from './librdkafka-consumer.js';
export { LibrdkafkaTopicAdmin } from './librdkafka-admin.js';
export { librdkafkaAvailable } from './librdkafka-base.js';
export { KafkaClientError, toKafkaError } from './errors.js';
export type { KafkaErrorCode } from './errors.js';
export { resolveClient, DEFAULT_CLIENT, CLIENT_NAMES } from './options.js';
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
