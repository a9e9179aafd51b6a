import { describe, expect, it } from 'vitest';
import { decodeSpanList } from '../src/json-codec.js';
import { decodeSpanLine, encodeSpanLine, joinSpanLines } from '../src/line-codec.js';
import { CLIENT_SPAN, CLIENT_SPAN_JSON, UTF8_SPAN } from './fixtures.js';

describe('span line codec', () => {
  it('writes one line per span', () => {
    expect(encodeSpanLine(CLIENT_SPAN)).toBe(`${CLIENT_SPAN_JSON}\n`);
    const line = encodeSpanLine(UTF8_SPAN);
    expect(line.indexOf('\n')).toBe(line.length - 1);
  });
  it('reads a line back, with or without its terminator', () => {
    expect(decodeSpanLine(encodeSpanLine(CLIENT_SPAN))).toEqual({ ok: true, span: CLIENT_SPAN });
    expect(decodeSpanLine(`${CLIENT_SPAN_JSON}\r\n`)).toEqual({ ok: true, span: CLIENT_SPAN });
    expect(decodeSpanLine(CLIENT_SPAN_JSON)).toEqual({ ok: true, span: CLIENT_SPAN });
  });
  it('rejects a torn line', () => {
    expect(decodeSpanLine(CLIENT_SPAN_JSON.slice(0, 40))).toMatchObject({ ok: false, reason: 'malformed_json' });
  });
  it('joins lines into a list message', () => {
    const message = joinSpanLines([encodeSpanLine(CLIENT_SPAN), encodeSpanLine(UTF8_SPAN), CLIENT_SPAN_JSON]);
    expect(message.startsWith('[{')).toBe(true);
    expect(decodeSpanList(message)).toEqual({ ok: true, spans: [CLIENT_SPAN, UTF8_SPAN, CLIENT_SPAN], rejected: [] });
    expect(joinSpanLines([])).toBe('[]');
  });
});
