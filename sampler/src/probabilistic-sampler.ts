import type { Sampler } from './sampler.js';
import { fixedRate, isValidSampleRate, type RateSource } from './rate-source.js';

const LONG_MAX = 0x7fffffffffffffffn;
const LONG_MIN = -0x8000000000000000n;

/**
 * Samples a percentage of traces, consistently per trace id: the decision depends only on the low
 * 64 bits of the id, as in zipkin's CollectorSampler. The low 64 bits are read as a signed long,
 * its absolute value (Long.MIN_VALUE counts as Long.MAX_VALUE) is compared with
 * `boundary = trunc(Long.MAX_VALUE * percent / 100)`, and the trace is sampled when it is not
 * above the boundary. Any tracer or collector using the same rule keeps the same traces.
 *
 * The rate is read from a {@link RateSource} on each decision, so a hot-reloaded rate applies to
 * the next trace. A rate the source reports outside 0..100 is ignored (the last good one is kept).
 */
export class ProbabilisticSampler implements Sampler {
  private readonly source: RateSource;
  private rate = Number.NaN;
  private boundary = 0n;

  /** @param rate a percentage (validated here) or a source of percentages. */
  constructor(rate: number | RateSource) {
    this.source = typeof rate === 'number' ? fixedRate(rate) : rate;
    this.refresh();
  }

  /** The rate in percent currently applied. */
  get currentRate(): number {
    this.refresh();
    return this.rate;
  }

  isSampled(traceId: string): boolean {
    this.refresh();
    if (this.rate >= 100) return true;
    if (this.rate <= 0) return false;
    const low = lowBits(traceId);
    if (low === undefined) return false;
    const signed = BigInt.asIntN(64, low);
    const magnitude = signed === LONG_MIN ? LONG_MAX : signed < 0n ? -signed : signed;
    return magnitude <= this.boundary;
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
    const scaled = Math.trunc(Number(LONG_MAX) * (next / 100));
    const boundary = BigInt(scaled);
    this.boundary = boundary > LONG_MAX ? LONG_MAX : boundary;
  }
}

/** The low 64 bits of a hex trace id (its last 16 characters), or undefined when not hex. */
function lowBits(traceId: string): bigint | undefined {
  const low = traceId.length > 16 ? traceId.slice(-16) : traceId;
  if (low.length === 0 || !/^[0-9a-f]+$/.test(low)) return undefined;
  return BigInt(`0x${low}`);
}
