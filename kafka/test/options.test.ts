import { describe, expect, it } from 'vitest';
import { resolveClient, validateBrokers, validateConsumerOptions, validateProducerOptions, withDeadline, DEFAULT_CLIENT } from '../src/options.js';
import { createAdmin, createConsumer, createProducer } from '../src/factory.js';
import { KafkajsSpanConsumer, KafkajsSpanProducer, KafkajsTopicAdmin } from '../src/kafkajs.js';
import { LibrdkafkaSpanProducer, librdkafkaAvailable } from '../src/librdkafka.js';
import { DEFAULT_PRODUCER_CLIENT } from '../src/options.js';

describe('resolveClient', () => {
  it('prefers the option, then PINTRACE_KAFKA_CLIENT, then the default', () => {
    expect(resolveClient('platformatic', { PINTRACE_KAFKA_CLIENT: 'kafkajs' })).toBe('platformatic');
    expect(resolveClient(undefined, { PINTRACE_KAFKA_CLIENT: 'platformatic' })).toBe('platformatic');
    expect(resolveClient(undefined, {})).toBe(DEFAULT_CLIENT);
  });

  it('names the variable and the choices on a bad value', () => {
    expect(() => resolveClient(undefined, { PINTRACE_KAFKA_CLIENT: 'rdkafka' })).toThrow(
      /PINTRACE_KAFKA_CLIENT is "rdkafka": use one of kafkajs, platformatic/,
    );
  });
});

describe('which client', () => {
  it('produces with librdkafka by default where it is installed, else with kafkajs', () => {
    expect(DEFAULT_PRODUCER_CLIENT).toBe('librdkafka');
    const p = createProducer({ brokers: ['127.0.0.1:9092'] });
    expect(p).toBeInstanceOf(librdkafkaAvailable() ? LibrdkafkaSpanProducer : KafkajsSpanProducer);
  });

  it('consumes and administers with kafkajs when librdkafka (a producer only) is named', () => {
    expect(createConsumer({ brokers: ['a:1'], groupId: 'g', topics: ['t'], client: 'librdkafka' })).toBeInstanceOf(KafkajsSpanConsumer);
    expect(createAdmin(['a:1'], { client: 'librdkafka' })).toBeInstanceOf(KafkajsTopicAdmin);
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
    expect(() => createProducer({ brokers: [] })).toThrow(expect.objectContaining({ code: 'KAFKA_CONFIG', retriable: false }));
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
