import { describe, expect, it } from 'vitest';
import { traceKafkaKey } from '../src/index.js';

describe('traceKafkaKey', () => {
  it('keys a 128-bit id and its low 64 bits alike, so both widths of one trace meet in one partition', () => {
    expect(traceKafkaKey('0af7651916cd43dd8448eb211c80319c')).toBe('8448eb211c80319c');
    expect(traceKafkaKey('8448eb211c80319c')).toBe('8448eb211c80319c');
  });

  it('pads a short id on the left as Zipkin does', () => {
    expect(traceKafkaKey('abc')).toBe('0000000000000abc');
  });
});
