import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { Receipt } from '../src/receipt.js';
import { decide, keepByTraceId, tailSample } from '../src/tail-sample.js';
import type { TraceBatch } from '../src/types.js';
import { sample, span, testMetrics } from './fakes.js';

function receipt(partition = 0, first = 0n) {
  return new Receipt('t', partition, first, first + 1n);
}

describe('tail sampling', () => {
  it('keeps error, debug and slow traces, a share by trace id, and applies a decision to late spans', async () => {
    const { registry, metrics } = testMetrics();
    const group = (traceId: string, spans = [span({ traceId })]) => ({ traceId, spans, receipts: [receipt()], closedBy: 'inactive' as const });
    expect(decide(group('1', [span({ tags: { error: '' } })]), 0)).toBe('error');
    expect(decide(group('1', [span({ debug: true })]), 0)).toBe('debug');
    expect(decide(group('1', [span({ timestamp: 0, duration: 2_000_000 })]), 0, 1_000_000)).toBe('slow');
    expect(keepByTraceId('0000000000000001', 0.5)).toBe(true);
    expect(keepByTraceId('7fffffffffffffff', 0.5)).toBe(false);
    expect(keepByTraceId('ffffffffffffffff', 0.5)).toBe(true); // |-1| is small
    const input = new Subject<TraceBatch>();
    const out: TraceBatch[] = [];
    input.pipe(tailSample({ metrics, rate: 0.5 })).subscribe((b) => out.push(b));
    const dropped = group('7fffffffffffffff');
    input.next({ traces: [dropped, group('0000000000000001')], receipts: [] });
    const late = group('7fffffffffffffff', [span({ traceId: '7fffffffffffffff', tags: { error: '' } })]);
    input.next({ traces: [late], receipts: [] });
    expect(out.map((b) => b.traces.map((t) => t.traceId))).toEqual([['0000000000000001'], []]);
    expect(dropped.receipts[0]!.released).toBe(true);
    expect(await sample(registry, 'pintrace_collector_dropped_total', { stage: 'tail_sample', reason: 'earlier_decision' })).toBe(1);
  });
});
