import { describe, expect, it } from 'vitest';
import { isTraceId, normalizeParentId, normalizeSpanId, normalizeTraceId } from '../src/ids.js';

describe('normalizeTraceId (SpanTest)', () => {
  it('truncates a 64-bit zero prefix', () => {
    expect(normalizeTraceId('0000000000000000000000000000162e')).toEqual({ ok: true, id: '000000000000162e' });
  });
  it('pads to 64 bits', () => {
    expect(normalizeTraceId('162e')).toEqual({ ok: true, id: '000000000000162e' });
  });
  it('pads to 128 bits', () => {
    expect(normalizeTraceId('4d2000000000000162e')).toEqual({ ok: true, id: '00000000000004d2000000000000162e' });
  });
  it('keeps 16 and 32 char ids', () => {
    expect(normalizeTraceId('463ac35c9f6413ad48485a3953bb6124')).toEqual({ ok: true, id: '463ac35c9f6413ad48485a3953bb6124' });
    expect(normalizeTraceId('48485a3953bb6124')).toEqual({ ok: true, id: '48485a3953bb6124' });
  });
  it('rejects bad characters, prefixes, too long, empty, zeros', () => {
    expect(normalizeTraceId('000-0000000004d20000000ss000162e').ok).toBe(false);
    expect(normalizeTraceId('0x162e')).toEqual({ ok: false, message: '0x162e should be lower-hex encoded with no prefix' });
    expect(normalizeTraceId('1'.repeat(33))).toEqual({ ok: false, message: 'traceId.length > 32' });
    expect(normalizeTraceId('')).toEqual({ ok: false, message: 'traceId is empty' });
    expect(normalizeTraceId('0'.repeat(32))).toEqual({ ok: false, message: 'traceId is all zeros' });
  });
});

describe('span and parent ids', () => {
  it('pads span ids', () => {
    expect(normalizeSpanId('cafebabe')).toEqual({ ok: true, id: '00000000cafebabe' });
    expect(normalizeSpanId('7fffffffffffffff')).toEqual({ ok: true, id: '7fffffffffffffff' });
  });
  it('treats all-zero parent ids as absent', () => {
    expect(normalizeParentId('0')).toEqual({ ok: true, id: undefined });
    expect(normalizeParentId('')).toEqual({ ok: false, message: 'parentId is empty' });
  });
  it('isTraceId only accepts normalised ids', () => {
    expect(isTraceId('48485a3953bb6124')).toBe(true);
    expect(isTraceId('0000000000000000000000000000162e')).toBe(false);
    expect(isTraceId('162e')).toBe(false);
  });
});
