import { describe, expect, it } from 'vitest';
import { firstValueFrom, of } from 'rxjs';
import { Receipt } from '../src/receipt.js';
import { stage } from '../src/stage.js';
import type { SourceBatch, SpanBatch } from '../src/types.js';
import { sample, span, testMetrics } from './fakes.js';

describe('stage', () => {
  it('counts spans in and out and the drops the function reports, by reason', async () => {
    const { registry, metrics } = testMetrics();
    const keep = span();
    const input: SpanBatch = { spans: [keep, span(), span()], receipts: [] };
    const op = stage(metrics, 'filter', 'span', (b: SpanBatch, drop): SpanBatch => {
      drop('because', 2);
      return { ...b, spans: [keep] };
    });
    const out = await firstValueFrom(of(input).pipe(op));
    expect(out.spans).toEqual([keep]);
    expect(input.spans).toHaveLength(3);
    expect(await sample(registry, 'pintrace_collector_in_total', { stage: 'filter', unit: 'span' })).toBe(3);
    expect(await sample(registry, 'pintrace_collector_out_total', { stage: 'filter', unit: 'span' })).toBe(1);
    expect(await sample(registry, 'pintrace_collector_dropped_total', { stage: 'filter', unit: 'span', reason: 'because' })).toBe(2);
  });

  it('counts a source batch in messages and drops in the unit given', async () => {
    const { registry, metrics } = testMetrics();
    const input: SourceBatch = {
      topic: 't',
      partition: 0,
      messages: [
        { offset: '0', key: null, value: null },
        { offset: '1', key: null, value: null },
      ],
      receipt: new Receipt('t', 0, 0n, 2n),
    };
    const op = stage(metrics, 'validate', 'span', (b: SourceBatch, drop): SpanBatch => {
      drop('empty_message', 2, 'message');
      return { spans: [], receipts: [b.receipt] };
    });
    await firstValueFrom(of(input).pipe(op));
    expect(await sample(registry, 'pintrace_collector_in_total', { stage: 'validate', unit: 'message' })).toBe(2);
    expect(await sample(registry, 'pintrace_collector_dropped_total', { stage: 'validate', unit: 'message', reason: 'empty_message' })).toBe(2);
  });
});
