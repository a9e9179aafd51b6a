import { SamplerConfigError } from './errors.js';

/**
 * Where a sampler reads its rate: a percentage from 0 to 100, fractions allowed (Pinterest ran
 * 0.3). `current()` is called on every root decision, so it must be cheap (return a field).
 *
 * This is the seam for a decider (KingPin-style managed hashmap file with hot reload): such a
 * source keeps the last good value and swaps it on reload; samplers need not change.
 */
export interface RateSource {
  /** The sample rate in percent, 0..100. Out-of-range or non-finite values are ignored by samplers. */
  current(): number;
  /**
   * Optional: the rate for one endpoint of this service (a per-endpoint override), or `current()`
   * when there is none. Called on root decisions that name their endpoint; must be cheap.
   */
  rateFor?(endpoint: string): number;
}

/** The rate dev machines use: every trace. */
export const DEV_SAMPLE_RATE = 100;

/** True when `percent` is a usable sample rate. */
export function isValidSampleRate(percent: number): boolean {
  return typeof percent === 'number' && Number.isFinite(percent) && percent >= 0 && percent <= 100;
}

/**
 * A rate that never changes. Throws {@link SamplerConfigError} when `percent` is not a number
 * from 0 to 100.
 */
export function fixedRate(percent: number): RateSource {
  if (!isValidSampleRate(percent)) {
    throw new SamplerConfigError('INVALID_SAMPLE_RATE', `sample rate must be a percentage from 0 to 100 (fractions allowed, e.g. 0.3), got ${String(percent)}`);
  }
  return { current: () => percent };
}

/** Dev mode: 100 %. */
export function devRate(): RateSource {
  return fixedRate(DEV_SAMPLE_RATE);
}
