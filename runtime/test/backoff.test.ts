import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelayMs, sleep } from '../src/backoff.js';

describe('backoffDelayMs', () => {
  it('doubles the ceiling from initialMs up to maxMs', () => {
    const top = { initialMs: 100, maxMs: 1000, random: () => 1 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, top))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('jitters within [ceiling / 2, ceiling]', () => {
    expect(backoffDelayMs(3, { initialMs: 100, maxMs: 1000, random: () => 0 })).toBe(200);
    expect(backoffDelayMs(3, { initialMs: 100, maxMs: 1000, random: () => 0.5 })).toBe(300);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(4, { initialMs: 100, maxMs: 10_000 });
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
  });

  it('defaults to 100 ms doubling to 10 s, and stays finite after many attempts', () => {
    expect(backoffDelayMs(1, { random: () => 1 })).toBe(100);
    expect(backoffDelayMs(10_000, { random: () => 1 })).toBe(10_000);
    expect(backoffDelayMs(0, { random: () => 1 })).toBe(100);
  });
});

describe('Backoff', () => {
  it('counts failures, grows with each, and starts over after reset', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 40, random: () => 1 });
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([10, 20, 40, 40]);
    expect(b.failures).toBe(4);
    b.reset();
    expect(b.failures).toBe(0);
    expect(b.next()).toBe(10);
  });
});

describe('sleep', () => {
  it('resolves true once the time is up', async () => {
    const start = performance.now();
    expect(await sleep(20)).toBe(true);
    expect(performance.now() - start).toBeGreaterThanOrEqual(15);
  });

  it('resolves false at once when the signal aborts during the wait', async () => {
    const abort = new AbortController();
    const start = performance.now();
    const slept = sleep(10_000, abort.signal);
    setTimeout(() => abort.abort(), 10);
    expect(await slept).toBe(false);
    expect(performance.now() - start).toBeLessThan(5_000);
  });

  it('does not wait at all on a signal already aborted', async () => {
    const start = performance.now();
    expect(await sleep(10_000, AbortSignal.abort())).toBe(false);
    expect(performance.now() - start).toBeLessThan(1_000);
  });
});
