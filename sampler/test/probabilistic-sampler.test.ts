import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ALWAYS_SAMPLE, ProbabilisticSampler, SamplerConfigError, type RateSource } from '@pintrace/sampler';

function randomTraceId(): string {
  return randomBytes(8).toString('hex');
}

describe('ProbabilisticSampler', () => {
  it('samples everything at 100 % and nothing at 0 %', () => {
    const all = new ProbabilisticSampler(100);
    const none = new ProbabilisticSampler(0);
    for (let i = 0; i < 100; i++) {
      const id = randomTraceId();
      expect(all.isSampled(id)).toBe(true);
      expect(none.isSampled(id)).toBe(false);
    }
  });

  it('samples about the configured percentage, fractions included', () => {
    const n = 40_000;
    for (const percent of [50, 10, 0.3]) {
      const sampler = new ProbabilisticSampler(percent);
      let sampled = 0;
      for (let i = 0; i < n; i++) if (sampler.isSampled(randomTraceId())) sampled++;
      const expected = (n * percent) / 100;
      expect(Math.abs(sampled - expected)).toBeLessThan(Math.max(5 * Math.sqrt(expected), 10));
    }
  });

  it('decides the same way for the same trace id, every time and in every instance', () => {
    const a = new ProbabilisticSampler(30);
    const b = new ProbabilisticSampler(30);
    for (let i = 0; i < 1000; i++) {
      const id = randomTraceId();
      expect(b.isSampled(id)).toBe(a.isSampled(id));
      expect(a.isSampled(id)).toBe(a.isSampled(id));
    }
  });

  it('uses only the low 64 bits, so a 128-bit id decides like its low half', () => {
    const sampler = new ProbabilisticSampler(50);
    for (let i = 0; i < 1000; i++) {
      const low = randomTraceId();
      expect(sampler.isSampled(`${randomTraceId()}${low}`)).toBe(sampler.isSampled(low));
    }
  });

  it('follows zipkin CollectorSampler: |signed low 64 bits| <= Long.MAX_VALUE * rate', () => {
    const sampler = new ProbabilisticSampler(50);
    expect(sampler.isSampled('0000000000000001')).toBe(true);
    expect(sampler.isSampled('ffffffffffffffff')).toBe(true); // -1 → 1
    expect(sampler.isSampled('3fffffffffffffff')).toBe(true); // just under MAX/2
    expect(sampler.isSampled('4000000000000001')).toBe(false);
    expect(sampler.isSampled('c000000000000001')).toBe(true); // -(MAX/2) in magnitude
    expect(sampler.isSampled('8000000000000000')).toBe(false); // MIN counts as MAX
    expect(new ProbabilisticSampler(99.99).isSampled('8000000000000000')).toBe(false);
  });

  it('decides from the two 32-bit halves of the low 64 bits exactly as from the hex id', () => {
    const edges = [
      '0000000000000001',
      'ffffffffffffffff',
      '3fffffffffffffff',
      '4000000000000000',
      '4000000000000001',
      '8000000000000000',
      '8000000000000001',
      '7fffffffffffffff',
      'c000000000000001',
      'ffffffff00000000',
      '00000000ffffffff',
    ];
    const ids = [...edges, ...Array.from({ length: 2000 }, randomTraceId)];
    // the per-endpoint override takes the other branch of the same decision
    const source: RateSource = { current: () => 37.5, rateFor: (endpoint) => (endpoint === '/hot' ? 0.3 : 37.5) };
    for (const sampler of [new ProbabilisticSampler(50), new ProbabilisticSampler(0.3), new ProbabilisticSampler(99.99), new ProbabilisticSampler(source)]) {
      for (const id of ids) {
        const high = Number.parseInt(id.slice(0, 8), 16);
        const low = Number.parseInt(id.slice(8), 16);
        for (const endpoint of [undefined, '/hot', '/cold'])
          expect(sampler.isSampledLow64(high, low, endpoint), `${id} ${endpoint}`).toBe(sampler.isSampled(id, endpoint));
      }
    }
  });

  it('reads the rate from its source on each decision and ignores invalid values', () => {
    let rate = 0;
    const source: RateSource = { current: () => rate };
    const sampler = new ProbabilisticSampler(source);
    expect(sampler.isSampled('0000000000000001')).toBe(false);
    rate = 100;
    expect(sampler.isSampled('0000000000000001')).toBe(true);
    rate = Number.NaN;
    expect(sampler.isSampled('0000000000000001')).toBe(true);
    expect(sampler.currentRate).toBe(100);
    rate = 250;
    expect(sampler.currentRate).toBe(100);
  });

  it('rejects a bad fixed rate at construction with an actionable message', () => {
    expect(() => new ProbabilisticSampler(101)).toThrow(SamplerConfigError);
    expect(() => new ProbabilisticSampler(-1)).toThrow(/percentage from 0 to 100/);
    expect(() => new ProbabilisticSampler(Number.NaN)).toThrow(SamplerConfigError);
  });

  it('never samples a trace id that is not hex', () => {
    expect(new ProbabilisticSampler(50).isSampled('not-hex')).toBe(false);
  });
});

describe('ProbabilisticSampler.rateOf', () => {
  it('says the rate isSampled applies: the endpoint override when valid, else the service rate', () => {
    let current = 0.3;
    const sampler = new ProbabilisticSampler({ current: () => current, rateFor: (e) => (e === '/rare' ? 10 : e === '/bad' ? 200 : current) });
    expect(sampler.rateOf()).toBe(0.3);
    expect(sampler.rateOf('/rare')).toBe(10);
    expect(sampler.rateOf('/bad')).toBe(0.3);
    current = 5;
    expect(sampler.rateOf('/other')).toBe(5);
    expect(ALWAYS_SAMPLE.rateOf?.()).toBe(100);
  });
});
