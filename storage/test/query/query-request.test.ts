import { describe, expect, it } from 'vitest';
import { javaSplit, javaTrim } from '../../src/query/java-strings.js';
import { annotationQueryString, buildQueryRequest, parseAnnotationQuery } from '../../src/query/query-request.js';

const DAY = 86_400_000;
const base = { endTs: Date.UTC(2026, 3, 8, 12), lookback: DAY, limit: 10 };

describe('annotationQuery parsing (QueryRequest.parseAnnotationQuery)', () => {
  it('splits on " and ", trims, lets later tags win and never lets a bare key override', () => {
    const m = parseAnnotationQuery(' http.uri = /foo and retried and http.uri=/bar and retried=x and retried');
    expect([...m]).toEqual([
      ['http.uri', '/bar'],
      ['retried', 'x'],
    ]);
    expect(annotationQueryString(m)).toBe('http.uri=/bar and retried=x');
  });
  it('keeps a value with "=" in it and empty pieces as Java split does', () => {
    expect([...parseAnnotationQuery('a=b=c')]).toEqual([['a', 'b=c']]);
    expect([...parseAnnotationQuery(' and x')]).toEqual([
      ['', ''],
      ['x', ''],
    ]);
    expect(javaSplit('a,b,', ',', 1000)).toEqual(['a', 'b', '']);
    expect(javaSplit('1 and 2 and 3', ' and ', 2)).toEqual(['1', '2 and 3']);
    expect(javaTrim('\u00a0x\t ')).toBe('\u00a0x');
  });
  it('stops at 100 terms, the rest staying in the last', () => {
    const q = Array.from({ length: 120 }, (_, i) => `k${i}`).join(' and ');
    const m = parseAnnotationQuery(q);
    expect(m.size).toBe(100);
    expect([...m.keys()][99]).toBe(Array.from({ length: 21 }, (_, i) => `k${i + 99}`).join(' and '));
  });
});

describe('buildQueryRequest (QueryRequest.Builder.build)', () => {
  it('lower-cases names and unsets "" and spanName "all"', () => {
    const r = buildQueryRequest({ ...base, serviceName: 'FrontEnd', remoteServiceName: '', spanName: 'ALL' });
    expect(r.serviceName).toBe('frontend');
    expect(r.remoteServiceName).toBeUndefined();
    expect(r.spanName).toBeUndefined();
  });
  it.each([
    [{ endTs: 0 }, 'endTs <= 0'],
    [{ limit: 0 }, 'limit <= 0'],
    [{ lookback: -1 }, 'lookback <= 0'],
    [{ minDuration: 0 }, 'minDuration <= 0'],
    [{ minDuration: 5, maxDuration: 4 }, 'maxDuration < minDuration'],
    [{ maxDuration: 4 }, 'maxDuration is only valid with minDuration'],
  ])("rejects %j with zipkin's message", (change, message) => {
    expect(() => buildQueryRequest({ ...base, ...change })).toThrow(message);
  });
});
