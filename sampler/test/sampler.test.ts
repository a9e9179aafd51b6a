import { describe, expect, it } from 'vitest';
import { ALWAYS_SAMPLE, decideSampling, NEVER_SAMPLE } from '@pintrace/sampler';

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
