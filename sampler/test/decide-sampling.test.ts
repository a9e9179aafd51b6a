import { describe, expect, it } from 'vitest';
import { ALWAYS_SAMPLE, decideSampling, devRate, fixedRate, NEVER_SAMPLE, DEV_SAMPLE_RATE } from '@pintrace/sampler';

describe('decideSampling', () => {
  it('lets the sampler decide only when upstream deferred', () => {
    expect(decideSampling(ALWAYS_SAMPLE, 'a', undefined)).toEqual({ sampled: true, debug: false });
    expect(decideSampling(NEVER_SAMPLE, 'a', undefined)).toEqual({ sampled: false, debug: false });
  });

  it('honours a propagated accept or deny whatever the local sampler says', () => {
    expect(decideSampling(NEVER_SAMPLE, 'a', 'accept').sampled).toBe(true);
    expect(decideSampling(ALWAYS_SAMPLE, 'a', 'deny').sampled).toBe(false);
  });

  it('forces sampling and marks debug on a debug trace', () => {
    expect(decideSampling(NEVER_SAMPLE, 'a', 'debug')).toEqual({ sampled: true, debug: true });
  });
});

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
