import { describe, expect, it } from 'vitest';
import type { Span } from '@pintrace/model';
import { checkSpan, decodeSpanList } from '@pintrace/model';
import { encodeSpanDocument, spanDocumentJson, spanIndexTimestamp } from '../src/span-document.js';
import { STABLE_SPAN, STABLE_SPAN_ID } from './fixtures.js';

const GOLDEN =
  '{"_q":["clnt/finagle.version","clnt/finagle.version=6.45.0","http.path","http.path=/api"],"traceId":"7180c278b62e8f6a216a2aea45d08fc9","parentId":"0000000000000001","id":"0000000000000002","kind":"CLIENT","name":"get","timestamp":100,"duration":200000,"localEndpoint":{"serviceName":"frontend","ipv4":"127.0.0.1"},"remoteEndpoint":{"serviceName":"backend","ipv4":"192.168.99.101","port":9000},"tags":{"clnt/finagle.version":"6.45.0","http.path":"/api"}}';

const base: Span = { traceId: '0000000000000001', id: '0000000000000001' };

describe('span document (BulkIndexWriterTest)', () => {
  it('reproduces the golden document and _id byte for byte', () => {
    const doc = encodeSpanDocument(STABLE_SPAN);
    expect(doc.body.toString('utf8')).toBe(GOLDEN);
    expect(doc.id).toBe(STABLE_SPAN_ID);
  });
  it('reproduces the search-disabled _id', () => {
    const doc = encodeSpanDocument(STABLE_SPAN, { searchEnabled: false });
    expect(doc.body.toString('utf8')).toBe(GOLDEN.replace(/"_q":\[[^\]]*\],/, ''));
    expect(doc.id).toBe('7180c278b62e8f6a216a2aea45d08fc9-bfe7a3c0d9ee83b1d218bd0f383f006a');
  });
  it('adds timestamp_millis first when non-zero', () => {
    expect(spanDocumentJson({ ...STABLE_SPAN, timestamp: 1000 })).toMatch(/^\{"timestamp_millis":1,"_q":\[/);
    expect(spanDocumentJson({ ...base, timestamp: 1000 })).toMatch(/^\{"timestamp_millis":1,"traceId":/);
    expect(spanDocumentJson({ ...base, timestamp: 999 })).toMatch(/^\{"traceId":/);
  });
  it('escapes quotes in annotation _q', () => {
    expect(spanDocumentJson({ ...base, annotations: [{ timestamp: 1, value: '"foo' }] })).toMatch(/^\{"_q":\["\\"foo"\],"traceId/);
  });
  it('escapes quotes in tag _q', () => {
    expect(spanDocumentJson({ ...base, tags: { '"foo': '"bar' } })).toMatch(/^\{"_q":\["\\"foo","\\"foo=\\"bar"\],"traceId/);
  });
  it('puts annotation values before tags in _q and skips long ones', () => {
    const long = 'x'.repeat(257);
    const json = spanDocumentJson({
      ...base,
      annotations: [
        { timestamp: 1, value: 'a' },
        { timestamp: 2, value: long },
      ],
      tags: { k: 'x'.repeat(254), big: 'x'.repeat(253) },
    });
    // "big" + "=" + 253 = 257 > 256 is skipped; "k" + "=" + 254 = 256 is kept
    expect(json.startsWith(`{"_q":["a","k","k=${'x'.repeat(254)}"],`)).toBe(true);
  });
  it('writes an empty _q when every entry is too long', () => {
    expect(spanDocumentJson({ ...base, tags: { k: 'x'.repeat(300) } })).toMatch(/^\{"_q":\[\],"traceId/);
  });
  it('measures lengths in UTF-16 units like Java String.length()', () => {
    // 127 emoji = 254 UTF-16 units; key "k" + "=" makes 256: kept
    const json = spanDocumentJson({ ...base, tags: { k: '💩'.repeat(127) } });
    expect(json.startsWith('{"_q":["k"')).toBe(true);
    const over = spanDocumentJson({ ...base, tags: { k: '💩'.repeat(128) } });
    expect(over.startsWith('{"_q":[]')).toBe(true);
  });
  it('omits timestamp_millis and _q when search is disabled', () => {
    expect(spanDocumentJson({ ...base, timestamp: 5000, tags: { a: 'b' } }, { searchEnabled: false })).toBe(
      '{"traceId":"0000000000000001","id":"0000000000000001","timestamp":5000,"tags":{"a":"b"}}',
    );
  });
  it('writes debug and shared last, only when true', () => {
    expect(spanDocumentJson({ ...base, kind: 'SERVER', debug: true, shared: true }, { searchEnabled: false })).toBe(
      '{"traceId":"0000000000000001","id":"0000000000000001","kind":"SERVER","debug":true,"shared":true}',
    );
  });
  it('writes non-ASCII as Jackson does: BMP raw UTF-8, supplementary as upper-case surrogate escapes', () => {
    const doc = encodeSpanDocument({ ...base, annotations: [{ timestamp: 1, value: '⻩' }], tags: { error: '💩' } });
    expect(doc.body.toString('utf8')).toBe(
      '{"_q":["⻩","error","error=\\uD83D\\uDCA9"],"traceId":"0000000000000001","id":"0000000000000001","annotations":[{"timestamp":1,"value":"⻩"}],"tags":{"error":"\\uD83D\\uDCA9"}}',
    );
    expect(doc.body.includes(Buffer.from('⻩', 'utf8'))).toBe(true);
  });
  it('escapes control characters with upper-case hex and leaves / and U+2028 raw', () => {
    expect(spanDocumentJson({ ...base, name: 'a\u001fb/\u2028\t\u007f' }, { searchEnabled: false })).toBe(
      '{"traceId":"0000000000000001","id":"0000000000000001","name":"a\\u001Fb/\u2028\\t\u007f"}',
    );
  });
  it('matches the vector produced by jackson-core for mixed input', () => {
    // Captured from Jackson's UTF8JsonGenerator writing this string (see jackson-json.ts).
    const value = 'x\uD83D\uDCA9 \u2EE9 \u2028 \u0001\t" \\ / \uD800 é';
    const json = spanDocumentJson({ ...base, name: value }, { searchEnabled: false });
    expect(json).toContain('"name":"x\\uD83D\\uDCA9 \u2EE9 \u2028 \\u0001\\t\\" \\\\ / \\uD800 é"');
  });
  it('matches the _id real zipkin-server 3.6.1 wrote for a span with emoji, CJK and controls', () => {
    // POSTed to zipkin-server 3.6.1 (ES 8.8.2 storage) on the devstack; it indexed this _id.
    const message =
      '[{"traceId":"340162d2062ebe32","id":"0000000000000002","name":"Émoji 💩 \\u001f ctrl","kind":"SERVER","timestamp":100,"localEndpoint":{"serviceName":"Svc"},"annotations":[{"timestamp":100,"value":"⻩"}],"tags":{"error":"💩","a/b":"x\\"y"}}]';
    const decoded = decodeSpanList(message);
    expect(decoded).toMatchObject({ ok: true, rejected: [] });
    if (decoded.ok) {
      expect(encodeSpanDocument(decoded.spans[0]!).id).toBe('340162d2062ebe32-2d9f163afcde8ad4d3801f98764d87bc');
    }
  });
  it('agrees with the model normaliser on the golden span', () => {
    const normalised = checkSpan({ ...STABLE_SPAN, parentId: '1', id: '2', name: 'GET' });
    expect(normalised.ok).toBe(true);
    if (normalised.ok) expect(encodeSpanDocument(normalised.span).id).toBe(STABLE_SPAN_ID);
  });
});

describe('spanIndexTimestamp (ElasticsearchSpanConsumer.indexSpans)', () => {
  it('uses the span timestamp in millis', () => {
    expect(spanIndexTimestamp({ ...base, timestamp: 1472470996199999 })).toBe(1472470996199);
  });
  it('falls back to the first annotation', () => {
    expect(
      spanIndexTimestamp({
        ...base,
        annotations: [
          { timestamp: 2000, value: 'a' },
          { timestamp: 9000, value: 'b' },
        ],
      }),
    ).toBe(2);
  });
  it('falls back to now', () => {
    expect(spanIndexTimestamp(base, 12345)).toBe(12345);
  });
});
