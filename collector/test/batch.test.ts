import { describe, expect, it } from 'vitest';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { Span } from '@pintrace/model';
import { batch, type BatchOptions } from '../src/batch.js';
import { Receipt } from '../src/receipt.js';
import type { SpanBatch } from '../src/types.js';
import { span, testMetrics } from './fakes.js';

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const receipt = (n: number) => new Receipt('t', 0, BigInt(n), BigInt(n + 1));
const spans = (n: number): Span[] => Array.from({ length: n }, () => span());
const item = (spanCount: number, offset: number): SpanBatch => ({ spans: spans(spanCount), receipts: [receipt(offset)] });
/** What the marble tests compare: span counts and the first offsets of the receipts. */
const shape = (b: SpanBatch) => ({ spans: b.spans.length, receipts: b.receipts.map((r) => Number(r.firstOffset)) });

function runMarbles(
  input: string,
  values: Record<string, SpanBatch>,
  options: Omit<BatchOptions, 'metrics' | 'scheduler'>,
  expected: string,
  expectedValues: Record<string, ReturnType<typeof shape>>,
) {
  newScheduler().run(({ cold, expectObservable }) => {
    const { metrics } = testMetrics();
    const out = cold(input, values).pipe(batch({ metrics, ...options }), map(shape));
    expectObservable(out).toBe(expected, expectedValues);
  });
}

describe('batch', () => {
  it('emits as soon as maxSpans are waiting', () => {
    runMarbles('a b 20ms c|', { a: item(2, 0), b: item(2, 1), c: item(1, 2) }, { maxSpans: 4, maxWaitMs: 10 }, '-x 21ms (y|)', {
      x: { spans: 4, receipts: [0, 1] },
      y: { spans: 1, receipts: [2] },
    });
  });

  it('emits what it has after maxWaitMs (virtual time)', () => {
    runMarbles('a 3ms b 20ms |', { a: item(1, 0), b: item(1, 1) }, { maxSpans: 100, maxWaitMs: 10 }, '10ms x 14ms |', {
      x: { spans: 2, receipts: [0, 1] },
    });
  });

  it('splits an oversized batch into bulks of at most maxSpans, each holding the receipts', () => {
    const a = item(7, 0);
    newScheduler().run(({ cold, expectObservable }) => {
      const { metrics } = testMetrics();
      const out = cold('a 9ms |', { a }).pipe(batch({ metrics, maxSpans: 3, maxWaitMs: 10 }), map(shape));
      expectObservable(out).toBe('(xx) 6ms (y|)', { x: { spans: 3, receipts: [0] }, y: { spans: 1, receipts: [0] } });
    });
    // Three pieces hold the one receipt: it is released only after the third release.
    a.receipts[0].release();
    a.receipts[0].release();
    expect(a.receipts[0].released).toBe(false);
    a.receipts[0].release();
    expect(a.receipts[0].released).toBe(true);
  });

  it('passes a batch with no spans on at once, so its offsets are not held back', () => {
    runMarbles('a 5ms |', { a: item(0, 0) }, { maxSpans: 10, maxWaitMs: 100 }, 'x 5ms |', { x: { spans: 0, receipts: [0] } });
  });

  it('flushes at once when nothing else can arrive before a release', () => {
    runMarbles('a 5ms |', { a: item(2, 0) }, { maxSpans: 10, maxWaitMs: 100, upstreamBlocked: () => true }, 'x 5ms |', {
      x: { spans: 2, receipts: [0] },
    });
  });

  it('rejects a bad configuration with a message saying what to change', () => {
    const { metrics } = testMetrics();
    expect(() => batch({ metrics, maxSpans: 0, maxWaitMs: 1 })).toThrow(/maxSpans must be an integer >= 1/);
  });
});
