import { describe, expect, it } from 'vitest';
import { firstValueFrom, of } from 'rxjs';
import type { Span } from '@pintrace/model';
import { adjust } from '../src/adjust.js';
import type { SpanAdjuster } from '../src/adjusters/span-adjuster.js';
import type { SpanBatch } from '../src/types.js';
import { sample, silentLog, span, testMetrics } from './fakes.js';

const rename: SpanAdjuster = { name: 'rename', shouldAdjust: () => true, adjust: (s: Span) => ({ ...s, name: 'renamed' }) };
const broken: SpanAdjuster = {
  name: 'broken',
  shouldAdjust: () => true,
  adjust: () => {
    throw new Error('boom');
  },
};

describe('adjust', () => {
  it('returns a new batch of adjusted spans and leaves the input as it was', async () => {
    const { metrics } = testMetrics();
    const original = span({ name: 'get' });
    const input: SpanBatch = { spans: [original], receipts: [] };
    const out = await firstValueFrom(of(input).pipe(adjust({ adjusters: [rename], metrics, log: silentLog })));
    expect(out.spans.map((s) => s.name)).toEqual(['renamed']);
    expect(input.spans).toEqual([original]);
    expect(original.name).toBe('get');
  });

  it('skips a failing adjuster for the span, counts it, and passes the span on', async () => {
    const { registry, metrics } = testMetrics();
    const input: SpanBatch = { spans: [span({ name: 'get' }), span({ name: 'put' })], receipts: [] };
    const out = await firstValueFrom(of(input).pipe(adjust({ adjusters: [broken, rename], metrics, log: silentLog })));
    expect(out.spans.map((s) => s.name)).toEqual(['renamed', 'renamed']);
    expect(await sample(registry, 'pintrace_collector_adjusted_total', { adjuster: 'broken_failed' })).toBe(2);
    expect(await sample(registry, 'pintrace_collector_out_total', { stage: 'adjust' })).toBe(2);
  });
});
