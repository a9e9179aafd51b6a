import { describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { KafkaClientError, toKafkaError } from '../src/errors.js';

const { KafkaJSConnectionError, KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded, KafkaJSRequestTimeoutError } = kafkajs;

describe('toKafkaError', () => {
  it('keeps a KafkaClientError as it is', () => {
    const e = new KafkaClientError('KAFKA_CONFIG', 'x', { retryable: false });
    expect(toKafkaError(e, 'ctx')).toBe(e);
  });

  it('classifies kafkajs connection errors as retryable KAFKA_CONNECTION', () => {
    const e = toKafkaError(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'), 'connect');
    expect(e).toMatchObject({ code: 'KAFKA_CONNECTION', retryable: true });
    expect(e.message).toBe('connect: Connection error: connect ECONNREFUSED');
    expect(e.cause).toBeInstanceOf(KafkaJSConnectionError);
  });

  it('finds the protocol error inside a retries-exceeded wrapper', () => {
    const inner = new KafkaJSProtocolError({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: true, message: 'no topic' } as unknown as Error);
    const outer = new KafkaJSNumberOfRetriesExceeded(inner, { retryCount: 5, retryTime: 100 });
    expect(toKafkaError(outer, 'send')).toMatchObject({ code: 'KAFKA_UNKNOWN_TOPIC', retryable: true });
  });

  it('maps group generation errors to retryable KAFKA_REBALANCE', () => {
    for (const type of ['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']) {
      const e = new KafkaJSProtocolError({ type, code: 27, retriable: false, message: type } as unknown as Error);
      expect(toKafkaError(e, 'commit')).toMatchObject({ code: 'KAFKA_REBALANCE', retryable: true });
    }
  });

  it('treats a too large message as permanent', () => {
    const e = new KafkaJSProtocolError({ type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false, message: 'too big' } as unknown as Error);
    expect(toKafkaError(e, 'send')).toMatchObject({ code: 'KAFKA_MESSAGE_TOO_LARGE', retryable: false });
  });

  it('classifies timeouts', () => {
    const e = new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out');
    expect(toKafkaError(e, 'send')).toMatchObject({ code: 'KAFKA_TIMEOUT', retryable: true });
  });

  it('classifies SASL and TLS failures as KAFKA_AUTHENTICATION, not retryable', () => {
    const { KafkaJSSASLAuthenticationError } = kafkajs as unknown as { KafkaJSSASLAuthenticationError: new (m: string) => Error };
    expect(toKafkaError(new KafkaJSSASLAuthenticationError('SASL SCRAM SHA512 authentication failed: bad creds'), 'connect')).toMatchObject({
      code: 'KAFKA_AUTHENTICATION',
      retryable: false,
    });
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    const conn = new KafkaJSConnectionError('Connection error: self-signed certificate in certificate chain', { cause: tls } as never);
    (conn as unknown as { cause: unknown }).cause = tls;
    expect(toKafkaError(conn, 'connect')).toMatchObject({ code: 'KAFKA_AUTHENTICATION', retryable: false });
  });

  it('wraps unknown values', () => {
    expect(toKafkaError('boom', 'x')).toMatchObject({ code: 'KAFKA_UNKNOWN', retryable: false, message: 'x: boom' });
  });
});
