import { describe, expect, it } from 'vitest';
import { formatB3Multi, formatB3Single, parseB3Multi, parseB3Single } from '@pintrace/tracer';

const TRACE64 = '463ac35c9f6413ad';
const TRACE128 = '463ac35c9f6413ad48485a3953bb6124';
const SPAN = 'a2fb4a1d1a96d312';
const PARENT = '0020000000000001';

describe('parseB3Single', () => {
  it('reads every valid form from the spec', () => {
    expect(parseB3Single(`${TRACE128}-${SPAN}-1-${PARENT}`)).toEqual({
      kind: 'context',
      context: { traceId: TRACE128, spanId: SPAN, sampling: 'accept', parentSpanId: PARENT },
    });
    expect(parseB3Single(`${TRACE64}-${SPAN}`)).toEqual({
      kind: 'context',
      context: { traceId: TRACE64, spanId: SPAN, sampling: undefined, parentSpanId: undefined },
    });
    expect(parseB3Single(`${TRACE64}-${SPAN}-d`)).toMatchObject({ context: { sampling: 'debug' } });
    expect(parseB3Single(`${TRACE64}-${SPAN}-0`)).toMatchObject({ context: { sampling: 'deny' } });
  });

  it('keeps a 64-bit trace id at 16 characters', () => {
    const parsed = parseB3Single(`${TRACE64}-${SPAN}-1`);
    expect(parsed?.kind === 'context' && parsed.context.traceId).toBe(TRACE64);
  });

  it('reads sampling-only values', () => {
    expect(parseB3Single('0')).toEqual({ kind: 'sampling', sampling: 'deny' });
    expect(parseB3Single('1')).toEqual({ kind: 'sampling', sampling: 'accept' });
    expect(parseB3Single('d')).toEqual({ kind: 'sampling', sampling: 'debug' });
  });

  it.each([
    '',
    'x',
    '-',
    `${TRACE64}`,
    `${TRACE64}-`,
    `${TRACE64}-${SPAN}-`,
    `${TRACE64}-${SPAN}-2`,
    `${TRACE64}-${SPAN}-true`,
    `${TRACE64}-${SPAN}-1-`,
    `${TRACE64}-${SPAN}-1-${PARENT}-extra`,
    `${TRACE64.toUpperCase()}-${SPAN}-1`,
    `${TRACE64.slice(1)}-${SPAN}-1`,
    `0${TRACE64}-${SPAN}-1`,
    `${TRACE64}-${SPAN}0-1`,
    `0000000000000000-${SPAN}-1`,
    `${TRACE64}-0000000000000000-1`,
    `${TRACE64}-${SPAN}-1-zzzzzzzzzzzzzzzz`,
    `${TRACE64}-${SPAN}-${PARENT}`,
  ])('rejects malformed %j', (value) => {
    expect(parseB3Single(value)).toBeUndefined();
  });
});

describe('parseB3Multi', () => {
  it('reads a full context', () => {
    expect(parseB3Multi({ traceId: TRACE64, spanId: SPAN, parentSpanId: PARENT, sampled: '1' })).toEqual({
      kind: 'context',
      context: { traceId: TRACE64, spanId: SPAN, parentSpanId: PARENT, sampling: 'accept' },
    });
  });

  it('maps sampled 1/0/true/false and treats a missing value as defer', () => {
    const base = { traceId: TRACE64, spanId: SPAN };
    const sampling = (sampled?: string, flags?: string) => {
      const parsed = parseB3Multi({ ...base, sampled, flags });
      return parsed?.kind === 'context' ? parsed.context.sampling : 'malformed';
    };
    expect(sampling('1')).toBe('accept');
    expect(sampling('true')).toBe('accept');
    expect(sampling('0')).toBe('deny');
    expect(sampling('false')).toBe('deny');
    expect(sampling(undefined)).toBeUndefined();
    expect(sampling(undefined, '1')).toBe('debug');
    expect(sampling('0', '1')).toBe('debug');
    expect(sampling(undefined, '0')).toBeUndefined();
    expect(sampling('yes')).toBe('malformed');
  });

  it('reads sampling without ids', () => {
    expect(parseB3Multi({ sampled: '0' })).toEqual({ kind: 'sampling', sampling: 'deny' });
    expect(parseB3Multi({ flags: '1' })).toEqual({ kind: 'sampling', sampling: 'debug' });
    expect(parseB3Multi({})).toBeUndefined();
  });

  it.each([
    { traceId: TRACE64 },
    { spanId: SPAN },
    { traceId: '', spanId: SPAN },
    { traceId: 'garbage', spanId: SPAN },
    { traceId: TRACE64, spanId: 'garbage' },
    { traceId: TRACE64, spanId: SPAN, parentSpanId: 'garbage' },
    { traceId: TRACE64.toUpperCase(), spanId: SPAN },
    { traceId: `${TRACE64}0`, spanId: SPAN },
  ])('rejects malformed %j', (values) => {
    expect(parseB3Multi(values)).toBeUndefined();
  });
});

describe('formatB3Single / formatB3Multi', () => {
  it('round-trips through the parsers', () => {
    const context = { traceId: TRACE128, spanId: SPAN, parentSpanId: PARENT, sampling: 'accept' as const };
    expect(formatB3Single(context)).toBe(`${TRACE128}-${SPAN}-1-${PARENT}`);
    expect(parseB3Single(formatB3Single(context))).toEqual({ kind: 'context', context });
    const headers = formatB3Multi(context);
    expect(headers).toEqual({
      'x-b3-traceid': TRACE128,
      'x-b3-spanid': SPAN,
      'x-b3-parentspanid': PARENT,
      'x-b3-sampled': '1',
    });
  });

  it('sends debug as Flags only, never with Sampled', () => {
    const headers = formatB3Multi({ traceId: TRACE64, spanId: SPAN, sampling: 'debug' });
    expect(headers['x-b3-flags']).toBe('1');
    expect(headers['x-b3-sampled']).toBeUndefined();
    expect(formatB3Single({ traceId: TRACE64, spanId: SPAN, sampling: 'debug' })).toBe(`${TRACE64}-${SPAN}-d`);
  });

  it('omits sampling (and so the parent in the single form) when deferred', () => {
    expect(formatB3Single({ traceId: TRACE64, spanId: SPAN, parentSpanId: PARENT })).toBe(`${TRACE64}-${SPAN}`);
    expect(formatB3Multi({ traceId: TRACE64, spanId: SPAN })).toEqual({ 'x-b3-traceid': TRACE64, 'x-b3-spanid': SPAN });
  });
});
