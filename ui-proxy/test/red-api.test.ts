import { describe, expect, it } from 'vitest';
import { RED_BUCKET_BOUNDS_US, type RedStep } from '@pintrace/storage';
import { Params } from '../src/params.js';
import { redSeries } from '../src/red-api.js';

const empty = () => new Array<number>(RED_BUCKET_BOUNDS_US.length + 1).fill(0);

function fakeStore(steps: RedStep[]) {
  const asked: unknown[] = [];
  return {
    asked,
    store: { query: async (input: unknown) => (asked.push(input), steps) },
  };
}

const params = (q: string) => new Params(new URLSearchParams(q));
const options = { defaultLookback: 3_600_000, maxLookback: 86_400_000, now: () => 1_700_000_060_000 };

describe('GET /api/v2/pintrace/red', () => {
  it('answers one object per step with scaled calls and errors and percentiles in µs', async () => {
    const buckets = empty();
    buckets[3] = 99; // (500, 1000] µs
    buckets[9] = 1.5; // (50 ms, 100 ms]
    const { store, asked } = fakeStore([
      { timestamp: 1_700_000_000_000, calls: 100.50000000000001, errors: 2, buckets },
      { timestamp: 1_700_000_030_000, calls: 0, errors: 0, buckets: empty() },
    ]);
    const reply = await redSeries(params('serviceName=Front&spanName=GET%20/a&endTs=1700000060000&lookback=60000&step=30000'), { ...options, store });
    expect(asked).toEqual([{ serviceName: 'front', spanName: 'get /a', endTs: 1_700_000_060_000, lookback: 60_000, stepMs: 30_000 }]);
    const body = JSON.parse(String(reply.body)) as Array<Record<string, unknown>>;
    expect(body).toEqual([
      { timestamp: 1_700_000_000_000, calls: 100.5, errors: 2, p50: 754, p90: 957, p99: 66500 },
      { timestamp: 1_700_000_030_000, calls: 0, errors: 0, p50: null, p90: null, p99: null },
    ]);
  });

  it('without spanName asks for the whole service; defaults endTs to now; rejects bad input as zipkin does', async () => {
    const { store, asked } = fakeStore([]);
    await redSeries(params('serviceName=front'), { ...options, store });
    expect(asked).toEqual([{ serviceName: 'front', endTs: options.now(), lookback: 3_600_000, stepMs: 60_000 }]);
    await expect(redSeries(params(''), { ...options, store })).rejects.toThrow('Mandatory parameter/header/attribute is missing: serviceName');
    await expect(redSeries(params('serviceName=a&step=0'), { ...options, store })).rejects.toThrow('step <= 0');
    await expect(redSeries(params('serviceName=a&step=1&lookback=100000'), { ...options, store })).rejects.toThrow('steps');
  });
});
