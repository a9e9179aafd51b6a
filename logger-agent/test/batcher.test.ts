import { describe, expect, it } from 'vitest';
import { buildMessages, traceIdOfLine, traceKey } from '../src/index.js';

const span = (traceId: string, id: string) => JSON.stringify({ traceId, id, name: 'x' });

describe('traceIdOfLine', () => {
  it('finds the trace id without parsing and lower-cases it', () => {
    expect(traceIdOfLine('{"traceId":"ABCDEF0123456789","id":"1"}')).toBe('abcdef0123456789');
    expect(traceIdOfLine('{"id":"1", "traceId" : "0af7651916cd43dd8448eb211c80319c"}')).toBe('0af7651916cd43dd8448eb211c80319c');
  });
  it('ignores a traceId inside a string value and non-hex ids', () => {
    expect(traceIdOfLine(JSON.stringify({ id: '1', tags: { note: '"traceId":"abcabcabcabcabca"' } }))).toBeUndefined();
    expect(traceIdOfLine('{"traceId":"not-hex"}')).toBeUndefined();
  });
});

describe('traceKey', () => {
  it('keys 64- and 128-bit ids of one trace alike, zero-padding short ones', () => {
    expect(traceKey('0af7651916cd43dd8448eb211c80319c')).toBe('8448eb211c80319c');
    expect(traceKey('8448eb211c80319c')).toBe('8448eb211c80319c');
    expect(traceKey('abc')).toBe('0000000000000abc');
  });
});

describe('buildMessages', () => {
  it('makes one JSON list per trace, keyed by trace id, spans in file order', () => {
    const out = buildMessages([span('aaaaaaaaaaaaaaa1', '1'), span('aaaaaaaaaaaaaaa2', '2'), span('aaaaaaaaaaaaaaa1', '3')]);
    expect(out.spans).toBe(3);
    expect(out.messages.map((m) => m.key)).toEqual(['aaaaaaaaaaaaaaa1', 'aaaaaaaaaaaaaaa2']);
    const first = out.messages[0].value.toString();
    expect(first[0]).toBe('[');
    expect(JSON.parse(first).map((s: { id: string }) => s.id)).toEqual(['1', '3']);
  });

  it('counts and skips lines that are not spans, and ignores empty lines', () => {
    const out = buildMessages(['', 'garbage', '[1,2]', '{"id":"1"}', '{"traceId":"aaaaaaaaaaaaaaa1","id":', '{"traceId":"aaaaaaaaaaaaaaa1",}', span('aaaaaaaaaaaaaaa1', '9')]);
    expect(out.spans).toBe(1);
    expect(out.skipped).toEqual({ not_json_object: 3, no_trace_id: 1, invalid_json: 1 });
    expect(out.samples.length).toBe(3);
    expect(JSON.parse(out.messages[0].value.toString())).toHaveLength(1);
  });

  it('can leave JSON checking off (cheaper, relies on the writer)', () => {
    const out = buildMessages(['{"traceId":"aaaaaaaaaaaaaaa1",}'], { checkJson: false });
    expect(out.spans).toBe(1);
  });
});
