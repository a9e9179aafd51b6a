import { describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { KafkaClientError, toKafkaError } from '../src/errors.js';

const { KafkaJSConnectionError, KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded, KafkaJSRequestTimeoutError } = kafkajs;

describe('toKafkaError', () => {
  it('keeps a KafkaClientError as it is', () => {
    const e = new KafkaClientError('KAFKA_CONFIG', 'x', { retriable: false });
    expect(toKafkaError(e, 'ctx')).toBe(e);
  });

  it('classifies kafkajs connection errors as retriable KAFKA_CONNECTION', () => {
    const e = toKafkaError(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'), 'connect');
    expect(e).toMatchObject({ code: 'KAFKA_CONNECTION', retriable: true });
    expect(e.message).toBe('connect: Connection error: connect ECONNREFUSED');
    expect(e.cause).toBeInstanceOf(KafkaJSConnectionError);
  });

  it('finds the protocol error inside a retries-exceeded wrapper', () => {
    const inner = new KafkaJSProtocolError({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: true, message: 'no topic' } as unknown as Error);
    const outer = new KafkaJSNumberOfRetriesExceeded(inner, { retryCount: 5, retryTime: 100 });
    expect(toKafkaError(outer, 'send')).toMatchObject({ code: 'KAFKA_UNKNOWN_TOPIC', retriable: true });
  });

  it('maps group generation errors to retriable KAFKA_REBALANCE', () => {
    for (const type of ['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']) {
      const e = new KafkaJSProtocolError({ type, code: 27, retriable: false, message: type } as unknown as Error);
      expect(toKafkaError(e, 'commit')).toMatchObject({ code: 'KAFKA_REBALANCE', retriable: true });
    }
  });

  it('treats a too large message as permanent', () => {
    const e = new KafkaJSProtocolError({ type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false, message: 'too big' } as unknown as Error);
    expect(toKafkaError(e, 'send')).toMatchObject({ code: 'KAFKA_MESSAGE_TOO_LARGE', retriable: false });
  });

  it('classifies timeouts', () => {
    const e = new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out');
    expect(toKafkaError(e, 'send')).toMatchObject({ code: 'KAFKA_TIMEOUT', retriable: true });
  });

  it('reads platformatic-style errors (code PLT_KFK_*, apiId, canRetry, aggregated errors)', () => {
    const proto = Object.assign(new Error('Received response with error while executing API'), {
      code: 'PLT_KFK_RESPONSE',
      apiId: 'UNKNOWN_TOPIC_OR_PARTITION',
      canRetry: true,
    });
    const multi = Object.assign(new Error('Multiple errors'), { code: 'PLT_KFK_MULTIPLE', errors: [proto] });
    expect(toKafkaError(multi, 'send')).toMatchObject({ code: 'KAFKA_UNKNOWN_TOPIC', retriable: true });
    const missing = Object.assign(new Error('Unknown topic t1.'), { code: 'PLT_KFK_USER', canRetry: false });
    expect(toKafkaError(missing, 'send')).toMatchObject({ code: 'KAFKA_UNKNOWN_TOPIC', retriable: true });
    const net = Object.assign(new Error('Connection failed'), { code: 'PLT_KFK_NETWORK', canRetry: true });
    expect(toKafkaError(net, 'send')).toMatchObject({ code: 'KAFKA_CONNECTION', retriable: true });
  });

  it('wraps unknown values', () => {
    expect(toKafkaError('boom', 'x')).toMatchObject({ code: 'KAFKA_UNKNOWN', retriable: false, message: 'x: boom' });
  });
});
