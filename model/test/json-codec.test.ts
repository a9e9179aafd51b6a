import { describe, expect, it } from 'vitest';
import { decodeSpan, decodeSpanList, encodeSpan, encodeSpanFields, encodeSpanList, sortedTagKeys } from '../src/json-codec.js';
import { quoteJson } from '../src/json-escape.js';
import type { Span } from '../src/span.js';
import { BACKEND, CLIENT_SPAN, CLIENT_SPAN_JSON, ERROR_SPAN, LOCAL_SPAN, NO_ANNOTATIONS_ROOT_SERVER_SPAN, UTF8_SPAN, UTF8_SPAN_JSON } from './fixtures.js';

function decodeOk(json: string): Span {
  const result = decodeSpan(json);
  if (!result.ok) throw new Error(`rejected: ${result.reason} ${result.message}`);
  return result.span;
}

function roundTrip(span: Span): Span {
  return decodeOk(encodeSpan(span));
}

describe('encodeSpan writes V2SpanWriter bytes', () => {
  it('client span', () => {
    expect(encodeSpan(CLIENT_SPAN)).toBe(CLIENT_SPAN_JSON);
  });
  it('escapes control chars, quotes and U+2028/U+2029 like zipkin', () => {
    expect(encodeSpan(UTF8_SPAN)).toBe(UTF8_SPAN_JSON);
  });
  it('sorts tag keys by UTF-16 order even for integer-like keys', () => {
    const span: Span = { traceId: '0000000000000001', id: '0000000000000001', tags: { b: '1', 10: '2', 9: '3' } };
    expect(encodeSpan(span)).toBe('{"traceId":"0000000000000001","id":"0000000000000001","tags":{"10":"2","9":"3","b":"1"}}');
  });
  it('writes debug and shared only when true, and non-ASCII raw', () => {
    const span: Span = {
      traceId: '0000000000000001',
      id: '0000000000000002',
      kind: 'SERVER',
      name: '⻩',
      debug: false,
      shared: true,
      tags: { error: '💩' },
    };
    expect(encodeSpan(span)).toBe('{"traceId":"0000000000000001","id":"0000000000000002","kind":"SERVER","name":"⻩","tags":{"error":"💩"},"shared":true}');
  });
  it('omits empty endpoints and zero port', () => {
    const span: Span = { traceId: '0000000000000001', id: '0000000000000002', localEndpoint: {}, remoteEndpoint: { ipv4: '1.2.3.4', port: 0 } };
    expect(encodeSpan(span)).toBe('{"traceId":"0000000000000001","id":"0000000000000002","remoteEndpoint":{"ipv4":"1.2.3.4"}}');
  });
});

describe('round trips (SpanBytesDecoderTest)', () => {
  it.each([
    ['span', CLIENT_SPAN],
    ['local span', LOCAL_SPAN],
    ['error span', ERROR_SPAN],
    ['64-bit trace id', { ...CLIENT_SPAN, traceId: CLIENT_SPAN.traceId.slice(16) }],
    ['shared server span', { ...CLIENT_SPAN, kind: 'SERVER', shared: true } as Span],
    ['special chars', UTF8_SPAN],
    ['no remote service name', { ...CLIENT_SPAN, remoteEndpoint: { ipv4: BACKEND.ipv4, port: BACKEND.port } }],
    ['root server span without annotations', NO_ANNOTATIONS_ROOT_SERVER_SPAN],
    ['incomplete root server span', { ...NO_ANNOTATIONS_ROOT_SERVER_SPAN, duration: undefined }],
    ['shared root server span', { ...NO_ANNOTATIONS_ROOT_SERVER_SPAN, shared: true }],
  ])('%s', (_name, span) => {
    const expected = JSON.parse(JSON.stringify(span)) as Span;
    expect(roundTrip(span as Span)).toEqual(expected);
  });

  it('trace of ten spans as a list', () => {
    const spans = Array.from({ length: 10 }, () => CLIENT_SPAN);
    const result = decodeSpanList(encodeSpanList(spans));
    expect(result).toEqual({ ok: true, spans, rejected: [] });
  });
});

describe('decode leniency and errors (SpanBytesDecoderTest)', () => {
  it("rejects an upper-case trace id with zipkin's message", () => {
    const result = decodeSpan('{"traceId":"48485A3953BB6124","name":"get-traces","id":"6b221d5bc9e6496c"}');
    expect(result).toMatchObject({
      ok: false,
      reason: 'invalid_trace_id',
      message: '48485A3953BB6124 should be lower-hex encoded with no prefix',
    });
  });
  it('rejects an upper-case span id', () => {
    expect(decodeSpan('{"traceId":"48485a3953bb6124","id":"6B221D5BC9E6496C"}')).toMatchObject({ ok: false, reason: 'invalid_id' });
  });
  it('reads a 128-bit trace id', () => {
    const span = decodeOk('{"traceId":"48485a3953bb61246b221d5bc9e6496c","name":"get-traces","id":"6b221d5bc9e6496c"}');
    expect(span.traceId).toBe('48485a3953bb61246b221d5bc9e6496c');
  });
  it('ignores null top-level fields', () => {
    const span = decodeOk(`{"traceId":"6b221d5bc9e6496c","parentId":null,"id":"6b221d5bc9e6496c","name":null,
      "timestamp":null,"duration":null,"localEndpoint":null,"remoteEndpoint":null,"annotations":null,
      "tags":null,"debug":null,"shared":null,"kind":null}`);
    expect(span).toEqual({ traceId: '6b221d5bc9e6496c', id: '6b221d5bc9e6496c' });
  });
  it('ignores null endpoint fields', () => {
    const span = decodeOk(`{"traceId":"6b221d5bc9e6496c","name":"get-traces","id":"6b221d5bc9e6496c",
      "localEndpoint":{"serviceName":null,"ipv4":"127.0.0.1","ipv6":null,"port":null}}`);
    expect(span.localEndpoint).toEqual({ ipv4: '127.0.0.1' });
  });
  it.each(['{"serviceName":null,"ipv4":null,"ipv6":null,"port":null}', '{}', '{"serviceName":"","ipv4":"not-an-ip","port":0}'])(
    'skips incomplete endpoint %s',
    (endpoint) => {
      const local = decodeOk(`{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","localEndpoint":${endpoint}}`);
      const remote = decodeOk(`{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","remoteEndpoint":${endpoint}}`);
      expect(local.localEndpoint).toBeUndefined();
      expect(remote.remoteEndpoint).toBeUndefined();
    },
  );
  it('reads endpoints without a service name', () => {
    const span = decodeOk('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","localEndpoint":{"ipv4":"127.0.0.1"},"remoteEndpoint":{"ipv4":"127.0.0.1"}}');
    expect(span.localEndpoint?.serviceName).toBeUndefined();
    expect(span.remoteEndpoint?.serviceName).toBeUndefined();
  });
  it('rejects an annotation missing its value', () => {
    const result = decodeSpan('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","annotations":[{"timestamp":1472470996199000}]}');
    expect(result).toMatchObject({ ok: false, reason: 'bad_annotation', message: 'Incomplete annotation at $.annotations[0].value' });
  });
  it('rejects an annotation missing its timestamp', () => {
    const result = decodeSpan('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","annotations":[{"value":"foo"}]}');
    expect(result).toMatchObject({ ok: false, reason: 'bad_annotation', message: 'Incomplete annotation at $.annotations[0].timestamp' });
  });
  it('rejects null annotation value and timestamp', () => {
    expect(decodeSpan('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","annotations":[{"timestamp":1,"value":null}]}')).toMatchObject({
      ok: false,
      reason: 'bad_annotation',
      message: expect.stringContaining('$.annotations[0].value'),
    });
    expect(decodeSpan('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","annotations":[{"timestamp":null,"value":"foo"}]}')).toMatchObject({
      ok: false,
      reason: 'bad_annotation',
      message: expect.stringContaining('$.annotations[0].timestamp'),
    });
  });
  it('rejects null trace id and id', () => {
    expect(decodeSpan('{"traceId":null,"name":"get-traces","id":"6b221d5bc9e6496c"}')).toMatchObject({
      ok: false,
      reason: 'missing_trace_id',
      message: expect.stringContaining('Expected a string but was NULL'),
    });
    expect(decodeSpan('{"traceId":"6b221d5bc9e6496c","name":"get-traces","id":null}')).toMatchObject({
      ok: false,
      reason: 'missing_id',
      message: expect.stringContaining('Expected a string but was NULL'),
    });
  });
  it('rejects missing trace id and id', () => {
    expect(decodeSpan('{"id":"6b221d5bc9e6496c"}')).toMatchObject({ ok: false, reason: 'missing_trace_id' });
    expect(decodeSpan('{"traceId":"6b221d5bc9e6496c"}')).toMatchObject({ ok: false, reason: 'missing_id' });
  });
  it('rejects a null tag value', () => {
    expect(decodeSpan('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","tags":{"foo":null}}')).toMatchObject({
      ok: false,
      reason: 'non_string_tag',
      message: 'No value at $.tags.foo',
    });
  });
  it('rejects a non-string tag value', () => {
    expect(decodeSpan('{"traceId":"6b221d5bc9e6496c","name":"get-traces","id":"6b221d5bc9e6496c","tags":{"error":true}}')).toMatchObject({
      ok: false,
      reason: 'non_string_tag',
      message: expect.stringContaining('Expected a string but was BOOLEAN'),
    });
    expect(decodeSpan('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","tags":{"a":{"b":"c"}}}')).toMatchObject({ ok: false, reason: 'non_string_tag' });
  });
  it('reads a numeric tag value as its text, as Gson does', () => {
    expect(decodeOk('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","tags":{"http.status_code":200}}').tags).toEqual({ 'http.status_code': '200' });
  });
  it('rejects malformed JSON (upper-case NULL is not JSON)', () => {
    expect(decodeSpan('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","tags":{"foo":NULL}}')).toMatchObject({
      ok: false,
      reason: 'malformed_json',
      traceId: '6b221d5bc9e6496c',
    });
  });
  it('skips unknown fields at every level', () => {
    const span = decodeOk(`{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","binaryAnnotations":[{"key":"x"}],
      "extra":{"nested":[1,2,{"a":null}]},"localEndpoint":{"serviceName":"a","zone":"b"},
      "annotations":[{"timestamp":1,"value":"x","endpoint":{"serviceName":"c"}}]}`);
    expect(span).toEqual({
      traceId: '6b221d5bc9e6496c',
      id: '6b221d5bc9e6496c',
      localEndpoint: { serviceName: 'a' },
      annotations: [{ timestamp: 1, value: 'x' }],
    });
  });
  it('keeps non-ASCII names, tags and annotations intact', () => {
    const json =
      '{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","name":"GÉT 中文","annotations":[{"timestamp":1,"value":"⻩"}],"tags":{"error":"💩","ключ":"значение"}}';
    const span = decodeOk(json);
    expect(span.name).toBe('gét 中文');
    expect(span.annotations).toEqual([{ timestamp: 1, value: '⻩' }]);
    expect(span.tags).toEqual({ error: '💩', ключ: 'значение' });
    expect(decodeOk(encodeSpan(span))).toEqual(span);
  });
  it('handles huge values without blowing up', () => {
    const big = 'x'.repeat(5_000_000);
    const span = decodeOk(`{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","name":"${big}","tags":{"big":"${big}"}}`);
    expect(span.tags?.big?.length).toBe(5_000_000);
    const bad = decodeSpan(`{"traceId":"${'a'.repeat(1_000_000)}","id":"6b221d5bc9e6496c"}`);
    expect(bad).toMatchObject({ ok: false, reason: 'invalid_trace_id', message: 'traceId.length > 32' });
    if (!bad.ok) expect(bad.traceId!.length).toBeLessThan(200);
    const hugeNumber = decodeSpan('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","timestamp":1e300}');
    expect(hugeNumber).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
  });
  it('rejects fractional timestamps and reads integer strings', () => {
    expect(decodeSpan('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","timestamp":1.5}')).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
    expect(decodeOk('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","duration":"42"}').duration).toBe(42);
  });
  it('rejects an unknown kind and non-boolean flags', () => {
    expect(decodeSpan('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","kind":"client"}')).toMatchObject({ ok: false, reason: 'invalid_kind' });
    expect(decodeSpan('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","debug":"true"}')).toMatchObject({ ok: false, reason: 'invalid_flag' });
  });
  it('rejects a port above 65535', () => {
    expect(decodeSpan('{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","localEndpoint":{"port":65536}}')).toMatchObject({
      ok: false,
      reason: 'invalid_port',
      message: 'invalid port 65536',
    });
  });
  it('rejects values that are not objects', () => {
    expect(decodeSpan('[]')).toMatchObject({ ok: false, reason: 'not_an_object' });
    expect(decodeSpan('null')).toMatchObject({ ok: false, reason: 'not_an_object' });
  });
});

describe('decodeSpanList', () => {
  const good = encodeSpan(CLIENT_SPAN);
  it('treats an empty message and [] as no spans', () => {
    expect(decodeSpanList('')).toEqual({ ok: true, spans: [], rejected: [] });
    expect(decodeSpanList(new Uint8Array(0))).toEqual({ ok: true, spans: [], rejected: [] });
    expect(decodeSpanList('[]')).toEqual({ ok: true, spans: [], rejected: [] });
    expect(decodeSpanList('[ \n ]')).toEqual({ ok: true, spans: [], rejected: [] });
  });
  it('rejects a message that is not a list as a whole', () => {
    for (const message of ['hello', good, ' [' + good + ']', '{"a":1}']) {
      expect(decodeSpanList(message)).toMatchObject({ ok: false, reason: 'undecodable' });
    }
    expect(decodeSpanList('[' + good)).toMatchObject({ ok: false, reason: 'undecodable' });
    expect(decodeSpanList('[' + good + '] trailing')).toMatchObject({ ok: false, reason: 'undecodable' });
  });
  it('rejects only the bad span of a list, with its index and reason', () => {
    const bad = '{"traceId":"48485A3953BB6124","id":"6b221d5bc9e6496c"}';
    const result = decodeSpanList(`[${good},${bad},${good}]`);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spans).toEqual([CLIENT_SPAN, CLIENT_SPAN]);
    expect(result.rejected).toEqual([
      { reason: 'invalid_trace_id', message: '48485A3953BB6124 should be lower-hex encoded with no prefix', index: 1, traceId: '48485A3953BB6124' },
    ]);
  });
  it('salvages the good spans when one element is not valid JSON', () => {
    const broken = '{"traceId":"6b221d5bc9e6496c","id":"6b221d5bc9e6496c","tags":{"foo":NULL}}';
    const result = decodeSpanList(`[${good},${broken},${good}]`);
    expect(result).toMatchObject({ ok: true, spans: [CLIENT_SPAN, CLIENT_SPAN], rejected: [{ reason: 'malformed_json', index: 1 }] });
    const withBrackets = decodeSpanList(`[{"traceId":"1","id":"1","name":"a]}[,"},NOPE]`);
    expect(withBrackets).toMatchObject({ ok: true, rejected: [{ reason: 'malformed_json', index: 1 }] });
    if (withBrackets.ok) expect(withBrackets.spans[0]!.name).toBe('a]}[,');
  });
  it('decodes UTF-8 bytes, including multi-byte characters', () => {
    const bytes = new TextEncoder().encode(`[${encodeSpan(UTF8_SPAN)},{"traceId":"1","id":"2","name":"💩"}]`);
    const result = decodeSpanList(bytes);
    expect(result).toMatchObject({ ok: true, rejected: [] });
    if (result.ok) {
      expect(result.spans[0]).toEqual(UTF8_SPAN);
      expect(result.spans[1]!.name).toBe('💩');
    }
  });
  it('rejects non-object list elements individually', () => {
    const result = decodeSpanList(`[null,1,${good}]`);
    expect(result).toMatchObject({
      ok: true,
      spans: [CLIENT_SPAN],
      rejected: [
        { reason: 'not_an_object', index: 0 },
        { reason: 'not_an_object', index: 1 },
      ],
    });
  });
});

describe('encodeSpanFields: one span encoder, parameterised by its quoting', () => {
  it('is encodeSpan without the braces when quoting as zipkin JSON', () => {
    for (const span of [CLIENT_SPAN, UTF8_SPAN]) expect(`{${encodeSpanFields(span, quoteJson)}}`).toBe(encodeSpan(span));
  });

  it('quotes every free-text string with the given quoting, and normalised ids and addresses as they are', () => {
    const marked = (s: string) => `"<${s}>"`;
    const span: Span = {
      traceId: '0000000000000001',
      parentId: '0000000000000002',
      id: '0000000000000003',
      kind: 'SERVER',
      name: 'get',
      localEndpoint: { serviceName: 'svc', ipv4: '10.0.0.1', ipv6: '2001:db8::1', port: 80 },
      annotations: [{ timestamp: 1, value: 'ws' }],
      tags: { b: '2', a: '1' },
    };
    expect(encodeSpanFields(span, marked)).toBe(
      '"traceId":"0000000000000001","parentId":"0000000000000002","id":"0000000000000003","kind":"SERVER","name":"<get>",' +
        '"localEndpoint":{"serviceName":"<svc>","ipv4":"10.0.0.1","ipv6":"2001:db8::1","port":80},' +
        '"annotations":[{"timestamp":1,"value":"<ws>"}],"tags":{"<a>":"<1>","<b>":"<2>"}',
    );
  });

  it('writes tags in the order of the keys it is given', () => {
    const span: Span = { traceId: '0000000000000001', id: '0000000000000001', tags: { b: '2', a: '1' } };
    expect(sortedTagKeys(span.tags)).toEqual(['a', 'b']);
    expect(sortedTagKeys(undefined)).toEqual([]);
    expect(encodeSpanFields(span, quoteJson, ['b', 'a'])).toContain('"tags":{"b":"2","a":"1"}');
  });
});

describe('quoteJson', () => {
  // What it must write: JSON.stringify's quoting with U+2028/U+2029 escaped as well.
  const reference = (s: string) => JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));

  it('quotes every UTF-16 code unit as JSON.stringify does, with the line separators escaped', () => {
    const inputs: string[] = [];
    for (let c = 0; c <= 0xffff; c++) inputs.push(String.fromCharCode(c), `a${String.fromCharCode(c)}b`);
    // compared as one list: an expect per code unit takes seconds
    const wrong = inputs.filter((s) => quoteJson(s) !== reference(s));
    expect(wrong.map((s) => [...s].map((c) => c.charCodeAt(0).toString(16)).join(' '))).toEqual([]);
  });

  it('keeps surrogate pairs raw and escapes lone surrogates, as JSON.stringify does', () => {
    for (const s of ['😀', 'x😀y', '\ud83d', 'a\ude00', '\ude00\ud83d', 'plain text', '', 'tab\there', 'q"uote', 'back\\slash', 'line\u2028sep']) {
      expect(quoteJson(s)).toBe(reference(s));
    }
  });
});
