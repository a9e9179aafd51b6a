import { describe, expect, it } from 'vitest';
import { resolveClient, validateBrokers, validateConsumerOptions, validateProducerOptions, withDeadline, DEFAULT_CLIENT } from '../src/options.js';
import { createAdmin, createConsumer, createProducer } from '../src/factory.js';
import { KafkajsSpanConsumer, KafkajsSpanProducer, KafkajsTopicAdmin } from '../src/kafkajs.js';
import { LibrdkafkaSpanProducer } from '../src/librdkafka.js';
import { LibrdkafkaSpanConsumer } from '../src/librdkafka-consumer.js';
import { LibrdkafkaTopicAdmin } from '../src/librdkafka-admin.js';
import { librdkafkaAvailable } from '../src/librdkafka-base.js';

describe('resolveClient', () => {
  it('takes the option, else the default; the environment plays no part', () => {
    expect(resolveClient('kafkajs')).toBe('kafkajs');
    expect(resolveClient(undefined)).toBe(DEFAULT_CLIENT);
    expect(DEFAULT_CLIENT).toBe('librdkafka');
    const before = process.env.PINTRACE_KAFKA_CLIENT;
    process.env.PINTRACE_KAFKA_CLIENT = 'kafkajs';
    try {
      expect(resolveClient(undefined)).toBe('librdkafka');
    } finally {
      if (before === undefined) delete process.env.PINTRACE_KAFKA_CLIENT;
      else process.env.PINTRACE_KAFKA_CLIENT = before;
    }
  });

  it('names the flag and the choices on a bad value', () => {
    expect(() => resolveClient('platformatic' as never)).toThrow(/client is "platformatic": use one of librdkafka, kafkajs \(--kafka-client\)/);
  });
});

describe('which client', () => {
  it('uses librdkafka for producer, consumer and admin by default where it is installed, else kafkajs', () => {
    const rd = librdkafkaAvailable();
    expect(createProducer({ brokers: ['127.0.0.1:9092'] })).toBeInstanceOf(rd ? LibrdkafkaSpanProducer : KafkajsSpanProducer);
    expect(createConsumer({ brokers: ['a:1'], groupId: 'g', topics: ['t'] })).toBeInstanceOf(rd ? LibrdkafkaSpanConsumer : KafkajsSpanConsumer);
    expect(createAdmin(['a:1'])).toBeInstanceOf(rd ? LibrdkafkaTopicAdmin : KafkajsTopicAdmin);
  });

  it('uses kafkajs when it is named', () => {
    expect(createProducer({ brokers: ['a:1'], client: 'kafkajs' })).toBeInstanceOf(KafkajsSpanProducer);
    expect(createConsumer({ brokers: ['a:1'], groupId: 'g', topics: ['t'], client: 'kafkajs' })).toBeInstanceOf(KafkajsSpanConsumer);
    expect(createAdmin(['a:1'], { client: 'kafkajs' })).toBeInstanceOf(KafkajsTopicAdmin);
  });

  it.runIf(librdkafkaAvailable())('takes the codecs its librdkafka build has', () => {
    expect(createProducer({ brokers: ['a:1'], client: 'librdkafka', compression: 'lz4' })).toBeInstanceOf(LibrdkafkaSpanProducer);
  });
});

describe('option validation', () => {
  it('wants host:port brokers', () => {
    expect(validateBrokers(['127.0.0.1:9092', 'kafka-1:9092', '[::1]:9092'])).toHaveLength(3);
    expect(() => validateBrokers([])).toThrow(/brokers is empty/);
    expect(() => validateBrokers(['localhost'])).toThrow(/"localhost" is not "host:port"/);
  });

  it('checks producer and consumer options with a message that says what to change', () => {
    expect(() => validateProducerOptions({ brokers: ['a:1'], requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs is 0/);
    const base = { brokers: ['a:1'], groupId: 'g', topics: ['t'] };
    expect(() => validateConsumerOptions({ ...base, groupId: '' })).toThrow(/groupId is empty/);
    expect(() => validateConsumerOptions({ ...base, topics: [] })).toThrow(/topics is empty/);
    expect(() => validateConsumerOptions({ ...base, sessionTimeoutMs: 3000, heartbeatIntervalMs: 3000 })).toThrow(
      /heartbeatIntervalMs \(3000\) must be below sessionTimeoutMs/,
    );
  });

  it('rejects at construction, with code KAFKA_CONFIG', () => {
    expect(() => createProducer({ brokers: [] })).toThrow(expect.objectContaining({ code: 'KAFKA_CONFIG', retryable: false }));
    expect(() => createConsumer({ brokers: ['a:1'], groupId: 'g', topics: [] })).toThrow(/topics is empty/);
    expect(() => createAdmin(['nope'])).toThrow(/not "host:port"/);
    expect(() => createProducer({ brokers: ['a:1'], client: 'kafkajs', compression: 'zstd' })).toThrow(/kafkajs/);
  });
});

describe('withDeadline', () => {
  it('passes a result through and rejects when late', async () => {
    await expect(withDeadline(Promise.resolve(1), 50, () => new Error('late'))).resolves.toBe(1);
    await expect(withDeadline(new Promise(() => undefined), 20, () => new Error('late'))).rejects.toThrow('late');
  });
});
