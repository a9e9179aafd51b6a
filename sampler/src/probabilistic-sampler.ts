import type { Sampler } from './sampler.js';
import { fixedRate, isValidSampleRate, type RateSource } from './rate-source.js';

const TWO_32 = 0x1_0000_0000;
const TWO_63 = 2 ** 63;

/**
 * Samples a percentage of traces, consistently per trace id: the decision depends only on the low
 * 64 bits of the id, as in zipkin's CollectorSampler. The low 64 bits are read as a signed long,
 * its absolute value (Long.MIN_VALUE counts as Long.MAX_VALUE) is compared with
 * `boundary = trunc(Long.MAX_VALUE * percent / 100)`, and the trace is sampled when it is not
 * above the boundary. Any tracer or collector using the same rule keeps the same traces.
 *
 * The rate is read from a {@link RateSource} on each decision, so a hot-reloaded rate applies to
 * the next trace. When the source has per-endpoint rates (`rateFor`) and the caller names the
 * endpoint, that rate is used. A rate outside 0..100 is ignored (the last good one is kept).
 *
 * The hot path does no allocation and no BigInt: the id is read as two 32-bit halves.
 */
export class ProbabilisticSampler implements Sampler {
  private readonly source: RateSource;
  private rate = Number.NaN;
  private boundaryHigh = 0;
  private boundaryLow = 0;

  /** @param rate a percentage (validated here) or a source of percentages. */
  constructor(rate: number | RateSource) {
    this.source = typeof rate === 'number' ? fixedRate(rate) : rate;
    this.refresh();
  }

  /** The rate in percent currently applied to roots without an endpoint override. */
  get currentRate(): number {
    this.refresh();
    return this.rate;
  }

  isSampled(traceId: string, endpoint?: string): boolean {
    const length = traceId.length;
    const start = length > 16 ? length - 16 : 0;
    const split = length - 8 > start ? length - 8 : start;
    const high = hex32(traceId, start, split);
    const low = hex32(traceId, split, length);
    // an id that is not hex (or empty) is above every boundary but 100 %'s, as before
    if (high < 0 || low < 0 || length === 0) return this.decide(0xffff_ffff, 0xffff_ffff, endpoint);
    // fewer than 16 hex characters are a positive number: never negated
    return length - start === 16 ? this.isSampledLow64(high, low, endpoint) : this.decide(high, low, endpoint);
  }

  isSampledLow64(high: number, low: number, endpoint?: string): boolean {
    if (high < 0x8000_0000) return this.decide(high, low, endpoint);
    if (high === 0x8000_0000 && low === 0) return this.decide(0x7fff_ffff, 0xffff_ffff, endpoint); // Long.MIN_VALUE counts as Long.MAX_VALUE
    // two's complement negation of the 64-bit value
    const negatedLow = (~low + 1) >>> 0;
    return this.decide((~high + (negatedLow === 0 ? 1 : 0)) >>> 0, negatedLow, endpoint);
  }

  rateOf(endpoint?: string): number {
    this.refresh();
    if (endpoint !== undefined && this.source.rateFor !== undefined) {
      try {
        const rate = this.source.rateFor(endpoint);
        if (isValidSampleRate(rate)) return rate;
      } catch {
        // the service rate applies, as in isSampled
      }
    }
    return this.rate;
  }

  /** The decision for a trace whose |low 64 bits| are `high` and `low`. */
  private decide(high: number, low: number, endpoint: string | undefined): boolean {
    this.refresh();
    if (endpoint !== undefined && this.source.rateFor !== undefined) {
      let rate: number;
      try {
        rate = this.source.rateFor(endpoint);
      } catch {
        rate = this.rate;
      }
      if (rate !== this.rate && isValidSampleRate(rate)) {
        // one decision at an arbitrary rate (a per-endpoint override)
        if (rate >= 100) return true;
        if (rate <= 0) return false;
        const scaled = boundaryOf(rate);
        const boundaryHigh = Math.floor(scaled / TWO_32);
        return underBoundary(high, low, boundaryHigh, scaled - boundaryHigh * TWO_32);
      }
    }
    const rate = this.rate;
    if (rate >= 100) return true;
    if (rate <= 0) return false;
    return underBoundary(high, low, this.boundaryHigh, this.boundaryLow);
  }

  private refresh(): void {
    let next: number;
    try {
      next = this.source.current();
    } catch {
      return;
    }
    if (next === this.rate || !isValidSampleRate(next)) return;
    this.rate = next;
    const scaled = boundaryOf(next);
    this.boundaryHigh = Math.floor(scaled / TWO_32);
    this.boundaryLow = scaled - this.boundaryHigh * TWO_32;
  }
}

/** trunc(Long.MAX_VALUE × percent / 100) as an exact integer double, at most 2^63. */
function boundaryOf(percent: number): number {
  // Number(Long.MAX_VALUE) is 2^63; the product is an integer-valued double after trunc.
  // 2^63 (what Long.MAX_VALUE rounds to) means "everything": see underBoundary.
  return Math.min(Math.trunc(TWO_63 * (percent / 100)), TWO_63);
}

/** |low 64 bits| (as `high` and `low` halves) <= boundary. */
function underBoundary(high: number, low: number, boundaryHigh: number, boundaryLow: number): boolean {
  if (boundaryHigh >= 0x8000_0000) return true; // boundary 2^63: everything
  return high < boundaryHigh || (high === boundaryHigh && low <= boundaryLow);
}

/** The lower-hex characters [from, to) as an unsigned number (at most 8 chars), or -1. */
function hex32(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    let digit: number;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) digit = c - 0x57;
    else return -1;
    value = value * 16 + digit;
  }
  return value;
}
