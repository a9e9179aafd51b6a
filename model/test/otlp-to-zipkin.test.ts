import { describe, expect, it } from 'vitest';
import { otlpToZipkin, type OtlpKeyValue, type OtlpSpan, type OtlpTraces } from '../src/index.js';

const str = (key: string, value: string): OtlpKeyValue => ({ key, value: { stringValue: value } });

function span(over: Partial<OtlpSpan> = {}): OtlpSpan {
  return {
    traceId: '0102030405060708090a0b0c0d0e0f10',
    spanId: '0102030405060708',
    traceState: '',
    parentSpanId: '',
    name: 'operationA',
    kind: 0,
    startTimeUnixNano: 1581452772000000321n,
    endTimeUnixNano: 1581452773000000789n,
    attributes: [],
    events: [],
    links: [],
    status: { code: 0, message: '' },
    ...over,
  };
}

function traces(spans: OtlpSpan[], resource: OtlpKeyValue[] = [], scope = { name: '', version: '' }): OtlpTraces {
  return { resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ scope, spans }] }] };
}

function one(t: OtlpTraces) {
  const result = otlpToZipkin(t);
  if (!result.ok) throw new Error(result.message);
  expect(result.spans).toHaveLength(1);
  return result.spans[0]!;
}

// The Collector translator's own test case (from_translator_test.go, testdata.GenerateTracesOneSpan):
// resource-attr only, two events with 2 dropped attributes each, start .000000321, end 1 s + 468 ns later.
describe('the Collector translator test corpus', () => {
  const events = [
    { timeUnixNano: 1581452773000000123n, name: 'event-with-attr', attributes: [str('span-event-attr', 'span-event-attr-val')], droppedAttributesCount: 2 },
    { timeUnixNano: 1581452773000000123n, name: 'event', attributes: [], droppedAttributesCount: 2 },
  ];
  const input = (code: number, message: string) => traces([span({ events, status: { code, message } })], [str('resource-attr', 'resource-attr-val-1')]);
  const expected = (tags: Record<string, string>) => ({
    traceId: '0102030405060708090a0b0c0d0e0f10',
    id: '0102030405060708',
    name: 'operationa',
    timestamp: 1581452772000000,
    duration: 1000000,
    localEndpoint: { serviceName: 'otlpresourcenoservicename' },
    annotations: [
      { timestamp: 1581452773000000, value: 'event-with-attr|{"span-event-attr":"span-event-attr-val"}|2' },
      { timestamp: 1581452773000000, value: 'event|{}|2' },
    ],
    tags: { 'resource-attr': 'resource-attr-val-1', ...tags },
  });

  it('oneSpanOk', () => expect(one(input(1, ''))).toEqual(expected({ 'otel.status_code': 'STATUS_CODE_OK' })));
  it('oneSpanError', () =>
    expect(one(input(2, 'error message'))).toEqual(
      expected({ 'otel.status_code': 'STATUS_CODE_ERROR', 'otel.status_description': 'error message', error: 'true' }),
    ));
  it('oneSpanUnset', () => expect(one(input(0, ''))).toEqual(expected({})));
  it('oneSpanNoResource: an empty trace id fails the request', () => {
    expect(otlpToZipkin(traces([span({ traceId: '' })]))).toEqual({ ok: false, reason: 'invalid_trace_id', message: 'TraceID is invalid' });
    expect(otlpToZipkin(traces([span({ spanId: '0000000000000000' })]))).toEqual({ ok: false, reason: 'invalid_id', message: 'SpanID is invalid' });
  });
  it('empty, oneEmpty, noLibs: no spans', () => {
    expect(otlpToZipkin({ resourceSpans: [] })).toEqual({ ok: true, spans: [] });
    expect(otlpToZipkin({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [] }] })).toEqual({ ok: true, spans: [] });
    expect(otlpToZipkin({ resourceSpans: [{ resource: { attributes: [str('a', 'b')] }, scopeSpans: [] }] })).toEqual({ ok: true, spans: [] });
  });
});

describe('endpoints', () => {
  it('takes service.name and net.host.* for the local endpoint, peer.service and net.peer.* for the remote one, and drops those tags', () => {
    const s = one(
      traces(
        [
          span({
            kind: 3,
            attributes: [
              str('peer.service', 'Backend'),
              str('net.peer.ip', '10.1.2.3'),
              str('net.peer.port', '8080'),
              str('net.host.ip', '::1'),
              { key: 'net.host.port', value: { intValue: 9000n } },
              str('http.method', 'GET'),
            ],
          }),
        ],
        [str('service.name', 'Frontend')],
      ),
    );
    expect(s.kind).toBe('CLIENT');
    expect(s.localEndpoint).toEqual({ serviceName: 'frontend', ipv6: '::1', port: 9000 });
    expect(s.remoteEndpoint).toEqual({ serviceName: 'backend', ipv4: '10.1.2.3', port: 8080 });
    expect(s.tags).toEqual({ 'http.method': 'GET' });
  });

  it('falls back to faas.name, k8s.deployment.name, process.executable.name and says which', () => {
    const s = one(traces([span()], [str('k8s.deployment.name', 'cart'), str('process.executable.name', 'node')]));
    expect(s.localEndpoint).toEqual({ serviceName: 'cart' });
    expect(s.tags).toEqual({ 'zipkin.service_name_source': 'k8s.deployment.name', 'process.executable.name': 'node' });
  });

  it('has no remote endpoint without a peer service or a parseable peer ip; the unusable attributes still go', () => {
    const s = one(traces([span({ attributes: [str('net.peer.ip', 'not-an-ip'), str('net.peer.port', '99999')] })], [str('service.name', 'a')]));
    expect(s.remoteEndpoint).toBeUndefined();
    expect(s.tags).toBeUndefined();
  });
});

describe('kinds, status, scope, links, values', () => {
  it('maps SERVER/CLIENT/PRODUCER/CONSUMER; INTERNAL becomes tag span.kind=internal; UNSPECIFIED nothing', () => {
    const kinds = [0, 1, 2, 3, 4, 5].map((kind) => one(traces([span({ kind })], [str('service.name', 'a')])));
    expect(kinds.map((s) => s.kind)).toEqual([undefined, undefined, 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER']);
    expect(kinds[1]!.tags).toEqual({ 'span.kind': 'internal' });
    expect(kinds[0]!.tags).toBeUndefined();
  });

  it('removes an error attribute unless the status is ERROR', () => {
    const s = one(traces([span({ attributes: [{ key: 'error', value: { boolValue: false } }] })], [str('service.name', 'a')]));
    expect(s.tags).toBeUndefined();
  });

  it('adds the scope as otel.library.*, kept for a later scope without a name (as the translator does)', () => {
    const result = otlpToZipkin({
      resourceSpans: [
        {
          resource: { attributes: [str('service.name', 'a')] },
          scopeSpans: [
            { scope: { name: 'lib', version: '1.2' }, spans: [span()] },
            { scope: { name: '', version: '' }, spans: [span({ spanId: '0000000000000002' })] },
          ],
        },
      ],
    });
    expect(result.ok && result.spans.map((s) => s.tags)).toEqual([
      { 'otel.library.name': 'lib', 'otel.library.version': '1.2' },
      { 'otel.library.name': 'lib', 'otel.library.version': '1.2' },
    ]);
  });

  it('writes trace state, links and non-string attributes as pdata renders them', () => {
    const s = one(
      traces(
        [
          span({
            traceState: 'k=v',
            parentSpanId: '00000000000000aa',
            attributes: [
              { key: 'i', value: { intValue: -9007199254740993n } },
              { key: 'd', value: { doubleValue: 1e-7 } },
              { key: 'b', value: { boolValue: true } },
              { key: 'bytes', value: { bytesValue: Uint8Array.from([1, 2, 3]) } },
              { key: 'arr', value: { arrayValue: { values: [{ stringValue: '<a&b>' }, { intValue: 1n }, { doubleValue: 2.5 }] } } },
              { key: 'map', value: { kvlistValue: { values: [str('z', '1'), str('a', '2')] } } },
              { key: 'empty', value: {} },
            ],
            links: [
              {
                traceId: 'ffffffffffffffffffffffffffffffff',
                spanId: 'eeeeeeeeeeeeeeee',
                traceState: 'x=y',
                attributes: [str('k', 'v')],
                droppedAttributesCount: 3,
              },
            ],
          }),
        ],
        [str('service.name', 'a')],
      ),
    );
    expect(s.parentId).toBe('00000000000000aa');
    expect(s.tags).toEqual({
      'w3c.tracestate': 'k=v',
      i: '-9007199254740993',
      d: '1e-7',
      b: 'true',
      bytes: 'AQID',
      arr: '["\\u003ca\\u0026b\\u003e",1,2.5]',
      map: '{"a":"2","z":"1"}',
      empty: '',
      'otlp.link.0': 'ffffffffffffffffffffffffffffffff|eeeeeeeeeeeeeeee|x=y|{"k":"v"}|3',
    });
  });

  it('keeps 128-bit ids, rounds times to microseconds, a positive sub-µs duration is 1, no timestamp for a zero start', () => {
    const s = one(traces([span({ startTimeUnixNano: 1700000000000000500n, endTimeUnixNano: 1700000000000000900n })], [str('service.name', 'a')]));
    expect(s.traceId).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(s.timestamp).toBe(1700000000000001);
    expect(s.duration).toBe(1);
    const unset = one(traces([span({ startTimeUnixNano: 0n, endTimeUnixNano: 0n })], [str('service.name', 'a')]));
    expect(unset.timestamp).toBeUndefined();
    expect(unset.duration).toBeUndefined();
  });
});
