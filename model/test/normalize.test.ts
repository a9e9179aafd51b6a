import { describe, expect, it } from 'vitest';
import { checkSpan, normalizeSpan } from '../src/normalize.js';
import type { Span } from '../src/span.js';
import { FRONTEND } from './fixtures.js';

const base = { traceId: '1', id: '1', localEndpoint: FRONTEND };

function ok(input: unknown): Span {
  const result = checkSpan(input);
  if (!result.ok) throw new Error(`rejected: ${result.reason} ${result.message}`);
  return result.span;
}

describe('normalisation (SpanTest)', () => {
  it('pads ids', () => {
    expect(ok(base)).toMatchObject({ traceId: '0000000000000001', id: '0000000000000001' });
  });
  it('lower-cases span and service names, empty means absent', () => {
    expect(ok({ ...base, name: 'GET' }).name).toBe('get');
    expect(ok({ ...base, name: '' }).name).toBeUndefined();
    expect(ok({ ...base, localEndpoint: { serviceName: 'FrontEnd' } }).localEndpoint).toEqual({ serviceName: 'frontend' });
    expect(ok({ ...base, localEndpoint: { serviceName: '' } }).localEndpoint).toBeUndefined();
  });
  it('drops empty endpoints', () => {
    expect(ok({ ...base, localEndpoint: {} }).localEndpoint).toBeUndefined();
    expect(ok({ ...base, remoteEndpoint: {} }).remoteEndpoint).toBeUndefined();
  });
  it('sorts annotations by timestamp then value', () => {
    expect(
      ok({
        ...base,
        annotations: [
          { timestamp: 2, value: 'foo' },
          { timestamp: 1, value: 'foo' },
          { timestamp: 1, value: 'bar' },
        ],
      }).annotations,
    ).toEqual([
      { timestamp: 1, value: 'bar' },
      { timestamp: 1, value: 'foo' },
      { timestamp: 2, value: 'foo' },
    ]);
  });
  it('de-duplicates annotations', () => {
    const annotations = [2, 2, 1, 2, 3].map((timestamp) => ({ timestamp, value: 'foo' }));
    expect(ok({ ...base, annotations }).annotations).toEqual([1, 2, 3].map((timestamp) => ({ timestamp, value: 'foo' })));
  });
  it('sorts tags by key', () => {
    expect(Object.keys(ok({ ...base, tags: { z: '1', 'a.b': '2', A: '3' } }).tags!)).toEqual(['A', 'a.b', 'z']);
  });
  it('keeps a "__proto__" tag key as a plain key', () => {
    const span = ok(JSON.parse('{"traceId":"1","id":"1","tags":{"__proto__":"x"}}'));
    expect(Object.getPrototypeOf(span.tags)).toBe(Object.prototype);
    expect(Object.keys(span.tags!)).toEqual(['__proto__']);
  });
  it('coerces zero and negative timestamp and duration to absent', () => {
    const span = ok({ ...base, timestamp: 0, duration: 0 });
    expect(span.timestamp).toBeUndefined();
    expect(span.duration).toBeUndefined();
    expect(ok({ ...base, timestamp: -1, duration: -5 })).not.toHaveProperty('timestamp');
  });
  it('treats false debug/shared as absent', () => {
    expect(ok({ ...base, debug: false, shared: false })).toEqual(ok(base));
    expect(ok({ ...base, debug: true, shared: true })).toMatchObject({ debug: true, shared: true });
  });
  it('removes shared on client spans', () => {
    expect(ok({ ...base, kind: 'CLIENT', shared: true }).shared).toBeUndefined();
    expect(ok({ ...base, kind: 'SERVER', shared: true }).shared).toBe(true);
  });
  it('treats an all-zero parent id as absent, and rejects an empty one', () => {
    expect(ok({ ...base, parentId: '0' }).parentId).toBeUndefined();
    expect(ok({ ...base, parentId: '0000000000000000' }).parentId).toBeUndefined();
    expect(checkSpan({ ...base, parentId: '' })).toMatchObject({ ok: false, reason: 'invalid_parent_id', message: 'parentId is empty' });
  });
  it('removes a parent id equal to the span id (prevents loops)', () => {
    expect(ok({ ...base, parentId: '0000000000000001' }).parentId).toBeUndefined();
    expect(ok({ ...base, parentId: '1' }).parentId).toBeUndefined();
  });
  it('pads parent id', () => {
    expect(ok({ ...base, parentId: 'cafebabe' }).parentId).toBe('00000000cafebabe');
  });
  it('rejects bad ids', () => {
    expect(checkSpan({ ...base, id: '' })).toMatchObject({ ok: false, reason: 'invalid_id', message: 'id is empty' });
    expect(checkSpan({ ...base, id: '0000000000000000' })).toMatchObject({ ok: false, reason: 'invalid_id', message: 'id is all zeros' });
    expect(checkSpan({ ...base, id: '11111111111111111' })).toMatchObject({ ok: false, reason: 'invalid_id', message: 'id.length > 16' });
    expect(checkSpan({ ...base, traceId: '' })).toMatchObject({ ok: false, reason: 'invalid_trace_id', message: 'traceId is empty' });
    expect(checkSpan({ ...base, traceId: '0000000000000000' })).toMatchObject({ ok: false, reason: 'invalid_trace_id', message: 'traceId is all zeros' });
    expect(checkSpan({ ...base, traceId: '6f9619ff-8b86-d011-b42d-00cf4fc964ff' })).toMatchObject({ ok: false, reason: 'invalid_trace_id' });
  });
  it('rejects a port above 65535 and treats port <= 0 as absent', () => {
    expect(checkSpan({ ...base, remoteEndpoint: { serviceName: 'a', port: 70000 } })).toMatchObject({ ok: false, reason: 'invalid_port' });
    expect(ok({ ...base, remoteEndpoint: { serviceName: 'a', port: -1 } }).remoteEndpoint).toEqual({ serviceName: 'a' });
    expect(ok({ ...base, remoteEndpoint: { port: 0 } }).remoteEndpoint).toBeUndefined();
  });
  it('normalises IPs: IPv6 compressed, invalid dropped, family decides the field', () => {
    expect(ok({ ...base, localEndpoint: { serviceName: 'db', ipv6: '2001:0DB8:0000:0000:0000:0000:0000:C001' } }).localEndpoint).toEqual({
      serviceName: 'db',
      ipv6: '2001:db8::c001',
    });
    expect(ok({ ...base, localEndpoint: { serviceName: 'db', ipv4: 'not.an.ip' } }).localEndpoint).toEqual({ serviceName: 'db' });
    expect(ok({ ...base, localEndpoint: { ipv4: '::1' } }).localEndpoint).toEqual({ ipv6: '::1' });
    expect(ok({ ...base, localEndpoint: { ipv6: '::ffff:10.0.0.1' } }).localEndpoint).toEqual({ ipv4: '10.0.0.1' });
  });
  it('does not modify its input', () => {
    const input = { ...base, name: 'GET', tags: { b: '1', a: '2' } };
    const copy = structuredClone(input);
    normalizeSpan(input as Span);
    expect(input).toEqual(copy);
  });
  it('is idempotent', () => {
    const once = ok({
      ...base,
      name: 'GET',
      parentId: 'a',
      annotations: [
        { timestamp: 2, value: 'x' },
        { timestamp: 1, value: 'y' },
      ],
    });
    expect(ok(once)).toEqual(once);
  });
});
