import { afterAll, beforeAll } from 'vitest';
import { createAdmin, createProducer, type SpanProducer, type TopicAdmin } from '@pintrace/kafka';
import { kafkaBrokers } from './servers.js';

export interface TopicAndProducer {
  readonly admin: TopicAdmin;
  readonly producer: SpanProducer;
}

/**
 * For the tests of the enclosing describe: `topic` with `partitions` on the devstack's Kafka, an
 * admin and a connected producer, closed after them (after the describe's own afterAll hooks
 * registered later, which run first).
 */
export function topicAndProducer(topic: string, partitions: number): TopicAndProducer {
  let admin: TopicAdmin | undefined;
  let producer: SpanProducer | undefined;
  beforeAll(async () => {
    admin = createAdmin(kafkaBrokers);
    await admin.ensureTopic(topic, partitions);
    producer = createProducer({ brokers: kafkaBrokers });
    await producer.connect();
  });
  afterAll(async () => {
    await producer?.disconnect();
    await admin?.close();
  });
  return {
    get admin() {
      if (admin === undefined) throw new Error('topicAndProducer: used before its beforeAll ran');
      return admin;
    },
    get producer() {
      if (producer === undefined) throw new Error('topicAndProducer: used before its beforeAll ran');
      return producer;
    },
  };
}
