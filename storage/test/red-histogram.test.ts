import { describe, expect, it } from 'vitest';
import { addCounts, bucketIndex, histogramQuantile, RED_BUCKET_BOUNDS_US } from '../src/red-histogram.js';

const B = RED_BUCKET_BOUNDS_US;

function histogramOf(durations: readonly number[]): number[] {
  const counts = new Array<number>(B.length + 1).fill(0);
  for (const d of durations) counts[bucketIndex(d)]! += 1;
  return counts;
}

function trueQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe('RED duration buckets', () => {
  it('a bound belongs to its own bucket (le), above the last is +Inf', () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(100)).toBe(0);
    expect(bucketIndex(101)).toBe(1);
    expect(bucketIndex(60_000_000)).toBe(B.length - 1);
    expect(bucketIndex(60_000_001)).toBe(B.length);
  });

  it('a quantile lies in the bucket that holds the true quantile, for many shapes', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(random() * 2000);
      const scale = 10 ** (2 + random() * 5);
      const durations = Array.from({ length: n }, () => Math.max(1, Math.round(-Math.log(1 - random()) * scale)));
      const sorted = [...durations].sort((a, b) => a - b);
      const counts = histogramOf(durations);
      for (const q of [0.5, 0.9, 0.99]) {
        const estimate = histogramQuantile(q, counts)!;
        const bucket = bucketIndex(trueQuantile(sorted, q));
        const lower = bucket === 0 ? 0 : B[bucket - 1]!;
        const upper = bucket < B.length ? B[bucket]! : B[B.length - 1]!;
        expect(estimate).toBeGreaterThanOrEqual(lower);
        expect(estimate).toBeLessThanOrEqual(upper);
      }
    }
  });

  it('interpolates inside the bucket, as histogram_quantile does; empty is undefined', () => {
    const counts = new Array<number>(B.length + 1).fill(0);
    counts[3] = 10; // (500, 1000]
    expect(histogramQuantile(0.5, counts)).toBe(750);
    expect(histogramQuantile(1, counts)).toBe(1000);
    counts[3] = 0;
    counts[B.length] = 4;
    expect(histogramQuantile(0.99, counts)).toBe(B[B.length - 1]);
    expect(histogramQuantile(0.5, new Array<number>(B.length + 1).fill(0))).toBeUndefined();
  });

  it('scaled (fractional) weights merge by adding bucket by bucket', () => {
    const a = histogramOf([120, 130, 9000]).map((c) => c * 100.5);
    const b = histogramOf([600]).map((c) => c * 2);
    const sum = [...a];
    addCounts(sum, b);
    expect(sum[1]).toBeCloseTo(201, 9);
    expect(sum[3]).toBe(2);
    expect(sum[6]).toBeCloseTo(100.5, 9);
  });
});
