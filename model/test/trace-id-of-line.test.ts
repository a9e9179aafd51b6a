import { describe, expect, it } from 'vitest';
import { encodeSpan } from '../src/json-codec.js';
import { traceIdOfLine } from '../src/trace-id-of-line.js';
import { CLIENT_SPAN } from './fixtures.js';

describe('traceIdOfLine', () => {
  it('reads the trace id of an encoded span', () => {
    expect(traceIdOfLine(encodeSpan(CLIENT_SPAN))).toBe(CLIENT_SPAN.traceId);
    expect(traceIdOfLine(`${encodeSpan(CLIENT_SPAN)}\n`)).toBe(CLIENT_SPAN.traceId);
  });
  it('tolerates whitespace and key order', () => {
    expect(traceIdOfLine('{ "id" : "1", "traceId" : "48485a3953bb6124" }')).toBe('48485a3953bb6124');
  });
  it('ignores traceId keys nested in tags, annotations or strings', () => {
    const line =
      '{"tags":{"traceId":"aaaaaaaaaaaaaaaa"},"annotations":[{"value":"\\"traceId\\":\\"bbbbbbbbbbbbbbbb\\""}],"name":"\\"traceId\\"","traceId":"cccccccccccccccc","id":"1"}';
    expect(traceIdOfLine(line)).toBe('cccccccccccccccc');
  });
  it('normalises the id', () => {
    expect(traceIdOfLine('{"traceId":"162e","id":"1"}')).toBe('000000000000162e');
    expect(traceIdOfLine('{"traceId":"0000000000000000000000000000162e","id":"1"}')).toBe('000000000000162e');
  });
  it('returns undefined when there is no valid trace id', () => {
    expect(traceIdOfLine('{"id":"1"}')).toBeUndefined();
    expect(traceIdOfLine('{"traceId":null,"id":"1"}')).toBeUndefined();
    expect(traceIdOfLine('{"traceId":"ABC","id":"1"}')).toBeUndefined();
    expect(traceIdOfLine('{"traceId":"' + 'a'.repeat(1000))).toBeUndefined();
    expect(traceIdOfLine('')).toBeUndefined();
    expect(traceIdOfLine('not json')).toBeUndefined();
  });
});
