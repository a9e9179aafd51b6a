import { describe, expect, it } from 'vitest';
import { devRate, fixedRate, DEV_SAMPLE_RATE } from '@pintrace/sampler';

describe('rate sources', () => {
  it('dev mode samples 100 %', () => {
    expect(devRate().current()).toBe(100);
    expect(DEV_SAMPLE_RATE).toBe(100);
  });

  it('a fixed rate keeps fractions and rejects out-of-range values', () => {
    expect(fixedRate(0.3).current()).toBe(0.3);
    expect(() => fixedRate(100.5)).toThrow(/0 to 100/);
  });
});
