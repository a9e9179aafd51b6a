import { describe, expect, it } from 'vitest';
import { Subject, VirtualTimeScheduler } from 'rxjs';
import { groupByTrace, TraceGroups } from '../src/group-by-trace.js';
import { Receipt } from '../src/receipt.js';
import type { SpanBatch, TraceBatch } from '../src/types.js';
import { sample, span, testMetrics } from './fakes.js';

function receipt(partition = 0, first = 0n) {
  return new Receipt('t', partition, first, first + 1n);
}

describe('group by trace', () => {
  it('holds spans of a trace across batches until it is inactive, and holds their offsets with them', () => {
    const scheduler = new VirtualTimeScheduler();
    const { metrics } = testMetrics();
    const groups = new TraceGroups({ metrics, inactivityMs: 1000, maxSpansPerTrace: 100, maxOpenTraces: 100, maxHeldSpans: 1000 });
    const input = new Subject<SpanBatch>();
    const out: TraceBatch[] = [];
    input.pipe(groupByTrace(groups, { metrics, scheduler })).subscribe((b) => out.push(b));
    const r1 = receipt(0, 0n);
    const r2 = receipt(0, 1n);
    const a = span({ traceId: '00000000000000aa' });
    const b = span({ traceId: '00000000000000aa' });
    input.next({ spans: [a], receipts: [r1] });
    scheduler.flush(); // no time passes without actions; flush runs the sweep timer
    expect(out.flatMap((x) => x.traces)).toHaveLength(1); // closed after 1 s of virtual time
    expect(r1.released).toBe(false);
    input.next({ spans: [b], receipts: [r2] });
    const closed = out.flatMap((x) => x.traces);
    expect(closed[0]!.spans).toEqual([a]);
    expect(closed[0]!.closedBy).toBe('inactive');
    for (const r of closed[0]!.receipts) r.release();
    expect(r1.released).toBe(true);
    expect(r2.released).toBe(false);
  });

  it('closes early on max spans per trace, max open traces and max held spans, and counts why', async () => {
    const scheduler = new VirtualTimeScheduler();
    const { registry, metrics } = testMetrics();
    const groups = new TraceGroups({ metrics, inactivityMs: 60_000, maxSpansPerTrace: 3, maxOpenTraces: 2, maxHeldSpans: 4 });
    const input = new Subject<SpanBatch>();
    const out: TraceBatch[] = [];
    input.pipe(groupByTrace(groups, { metrics, scheduler })).subscribe((b) => out.push(b));
    const t = (n: number) => n.toString(16).padStart(16, '0');
    input.next({ spans: [span({ traceId: t(1) }), span({ traceId: t(1) }), span({ traceId: t(1) })], receipts: [receipt()] });
    expect(out.flatMap((x) => x.traces).map((g) => g.closedBy)).toEqual(['max_spans_per_trace']);
    input.next({ spans: [span({ traceId: t(2) }), span({ traceId: t(3) }), span({ traceId: t(4) })], receipts: [receipt()] });
    expect(out.flatMap((x) => x.traces).map((g) => g.closedBy)).toEqual(['max_spans_per_trace', 'max_open_traces']);
    expect(groups.size).toBe(2);
    const held = new TraceGroups({ metrics, inactivityMs: 60_000, maxSpansPerTrace: 100, maxOpenTraces: 100, maxHeldSpans: 2 });
    const heldOut: TraceBatch[] = [];
    const heldIn = new Subject<SpanBatch>();
    heldIn.pipe(groupByTrace(held, { metrics, scheduler })).subscribe((b) => heldOut.push(b));
    heldIn.next({ spans: [span({ traceId: t(5) }), span({ traceId: t(6) }), span({ traceId: t(7) })], receipts: [receipt()] });
    expect(heldOut.flatMap((x) => x.traces).map((g) => [g.traceId, g.closedBy])).toEqual([[t(5), 'max_held_spans']]);
    expect(await sample(registry, 'pintrace_collector_traces_closed_total', { reason: 'max_open_traces' })).toBe(1);
    input.complete();
    expect(out.flatMap((x) => x.traces).at(-1)!.closedBy).toBe('complete');
  });

  it('forgets spans of revoked partitions without releasing other partitions', () => {
    const { metrics } = testMetrics();
    const groups = new TraceGroups({ metrics, inactivityMs: 60_000, maxSpansPerTrace: 100, maxOpenTraces: 100, maxHeldSpans: 100 });
    const scheduler = new VirtualTimeScheduler();
    const input = new Subject<SpanBatch>();
    const out: TraceBatch[] = [];
    input.pipe(groupByTrace(groups, { metrics, scheduler })).subscribe((b) => out.push(b));
    const r0 = receipt(0);
    const r1 = receipt(1);
    input.next({ spans: [span()], receipts: [r0] });
    input.next({ spans: [span()], receipts: [r1] });
    groups.revoke(new Set(['t\u00001']));
    expect(groups.size).toBe(1);
    expect(r0.released).toBe(true);
    expect(r1.released).toBe(false);
  });
});
