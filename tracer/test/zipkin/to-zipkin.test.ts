import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { encodeSpan, checkSpan } from '@pintrace/model';
import { toZipkinSpan, type FinishedSpan } from '@pintrace/tracer';

function finished(overrides: Partial<FinishedSpan> = {}): FinishedSpan {
  return {
    traceId: '0000000000000000463ac35c9f6413ad',
    spanId: 'a2fb4a1d1a96d312',
    parentSpanId: undefined,
    name: 'GET',
    kind: SpanKind.INTERNAL,
    startMicros: 1_700_000_000_000_000,
    durationMicros: 1500,
    attributes: {},
    events: [],
    status: { code: SpanStatusCode.UNSET },
    debug: false,
    shared: false,
    localEndpoint: { serviceName: 'frontend', ipv4: '10.0.0.1' },
    ...overrides,
  };
}

describe('toZipkinSpan', () => {
  it('maps a minimal local span', () => {
    expect(toZipkinSpan(finished())).toEqual({
      traceId: '463ac35c9f6413ad',
      id: 'a2fb4a1d1a96d312',
      name: 'get',
      timestamp: 1_700_000_000_000_000,
      duration: 1500,
      localEndpoint: { serviceName: 'frontend', ipv4: '10.0.0.1' },
    });
  });

  it('keeps a 128-bit trace id at 32 characters', () => {
    expect(toZipkinSpan(finished({ traceId: '463ac35c9f6413ad48485a3953bb6124' })).traceId).toBe('463ac35c9f6413ad48485a3953bb6124');
  });

  it.each([
    [SpanKind.SERVER, 'SERVER'],
    [SpanKind.CLIENT, 'CLIENT'],
    [SpanKind.PRODUCER, 'PRODUCER'],
    [SpanKind.CONSUMER, 'CONSUMER'],
    [SpanKind.INTERNAL, undefined],
  ])('maps kind %s to %s', (kind, expected) => {
    expect(toZipkinSpan(finished({ kind })).kind).toBe(expected);
  });

  it('turns attributes into string tags and network attributes into the remote endpoint', () => {
    const span = toZipkinSpan(
      finished({
        kind: SpanKind.CLIENT,
        attributes: {
          'http.method': 'GET',
          'http.status_code': 200,
          retry: true,
          list: ['a', 'b'],
          'peer.service': 'Backend',
          'network.peer.address': '::ffff:127.0.0.1',
          'network.peer.port': 8080,
        },
      }),
    );
    expect(span.tags).toEqual({ 'http.method': 'GET', 'http.status_code': '200', retry: 'true', list: 'a,b' });
    expect(span.remoteEndpoint).toEqual({ serviceName: 'backend', ipv4: '127.0.0.1', port: 8080 });
  });

  it('keeps an IPv6 peer and omits port 0', () => {
    const span = toZipkinSpan(finished({ attributes: { 'net.peer.ip': '2001:db8::1', 'net.peer.port': 0 } }));
    expect(span.remoteEndpoint).toEqual({ ipv6: '2001:db8::1' });
  });

  it('turns events into annotations', () => {
    const span = toZipkinSpan(
      finished({
        events: [
          { name: 'cache.miss', timestampMicros: 1_700_000_000_000_100 },
          { name: 'retry', timestampMicros: 1_700_000_000_000_200, attributes: { attempt: 2 } },
        ],
      }),
    );
    expect(span.annotations).toEqual([
      { timestamp: 1_700_000_000_000_100, value: 'cache.miss' },
      { timestamp: 1_700_000_000_000_200, value: 'retry {"attempt":2}' },
    ]);
  });

  it('marks an error status with the error tag, keeping an explicit one', () => {
    expect(toZipkinSpan(finished({ status: { code: SpanStatusCode.ERROR, message: '503' } })).tags).toEqual({ error: '503' });
    expect(toZipkinSpan(finished({ status: { code: SpanStatusCode.ERROR } })).tags).toEqual({ error: 'true' });
    expect(toZipkinSpan(finished({ status: { code: SpanStatusCode.ERROR, message: 'x' }, attributes: { error: 'timeout' } })).tags).toEqual({
      error: 'timeout',
    });
  });

  it('sets parentId, debug and shared', () => {
    const span = toZipkinSpan(finished({ parentSpanId: '0020000000000001', debug: true, shared: true, kind: SpanKind.SERVER }));
    expect(span).toMatchObject({ parentId: '0020000000000001', debug: true, shared: true });
  });

  it('produces spans the model accepts and encodes in V2 key order', () => {
    const span = toZipkinSpan(finished({ parentSpanId: '0020000000000001', kind: SpanKind.SERVER, shared: true, attributes: { 'http.path': '/a' } }));
    expect(checkSpan(span)).toMatchObject({ ok: true });
    expect(encodeSpan(span)).toBe(
      '{"traceId":"463ac35c9f6413ad","parentId":"0020000000000001","id":"a2fb4a1d1a96d312","kind":"SERVER","name":"get",' +
        '"timestamp":1700000000000000,"duration":1500,"localEndpoint":{"serviceName":"frontend","ipv4":"10.0.0.1"},' +
        '"tags":{"http.path":"/a"},"shared":true}',
    );
  });
});
