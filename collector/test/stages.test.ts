import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, Subject, VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { FinagleAdjuster } from '../src/adjusters/finagle-adjuster.js';
import { FinagleIssue343Adjuster } from '../src/adjusters/finagle-issue343-adjuster.js';
import { NameNormalizer } from '../src/adjusters/name-normalizer.js';
import { filter, parseFilterRule } from '../src/filter.js';
import { groupByTrace } from '../src/group-by-trace.js';
import { groupByTimeWindow } from '../src/group-by-time-window.js';
import { Receipt } from '../src/receipt.js';
import { decide, keepByTraceId, tailSample } from '../src/tail-sample.js';
import type { SpanBatch, TraceBatch } from '../src/types.js';
import { sample, span, testMetrics } from './fakes.js';

describe('adjusters', () => {
  it('backfills Finagle timestamp and duration from cs/cr, leaving authoritative values alone', () => {
    const a = new FinagleAdjuster();
    const s = span({ timestamp: undefined, duration: undefined, tags: { 'srv/finagle.version': '6.28.0' }, annotations: [
      { timestamp: 10, value: 'cs' }, { timestamp: 12, value: 'sr' }, { timestamp: 18, value: 'ss' }, { timestamp: 20, value: 'cr' },
    ] });
    expect(a.shouldAdjust(s)).toBe(true);
    expect(a.adjust(s)).toMatchObject({ timestamp: 10, duration: 10 });
    const server = span({ timestamp: undefined, duration: undefined, tags: { 'srv/finagle.version': '6.28.0' }, annotations: [
      { timestamp: 12, value: 'sr' }, { timestamp: 18, value: 'ss' },
    ] });
    expect(a.adjust(server)).toMatchObject({ timestamp: 12, duration: 6 });
    expect(a.shouldAdjust(span({ tags: { 'srv/finagle.version': '6.28.0' } }))).toBe(false);
    expect(a.shouldAdjust(span({ timestamp: undefined }))).toBe(false);
  });

  it('removes finagle.flush from memcache spans only (finagle#343)', () => {
    const a = new FinagleIssue343Adjuster();
    const s = span({ annotations: [{ timestamp: 1, value: 'finagle.flush' }, { timestamp: 2, value: 'ws' }], tags: { 'memcached.result': 'Hit' } });
    expect(a.shouldAdjust(s)).toBe(true);
    expect(a.adjust(s).annotations).toEqual([{ timestamp: 2, value: 'ws' }]);
    expect(a.shouldAdjust({ ...s, tags: { x: 'y' } })).toBe(false);
  });

  it('renames services by alias and span names by pattern', () => {
    const a = new NameNormalizer({ serviceAliases: { 'FrontEnd-Canary': 'frontend' }, spanNamePatterns: [{ pattern: '/[0-9]+', replacement: '/{id}' }] });
    const s = span({ name: 'get /users/123', localEndpoint: { serviceName: 'frontend-canary' }, remoteEndpoint: { serviceName: 'db' } });
    expect(a.shouldAdjust(s)).toBe(true);
    expect(a.adjust(s)).toMatchObject({ name: 'get /users/{id}', localEndpoint: { serviceName: 'frontend' }, remoteEndpoint: { serviceName: 'db' } });
  });
});

describe('filter', () => {
  it('drops spans matching any rule and counts them by rule', async () => {
    const { registry, metrics } = testMetrics();
    const rules = ['service=healthcheck', 'span=get /health', 'annotation=skip', 'tag=http.path=/ping', 'tag=internal'].map(parseFilterRule);
    const keep = span();
    const spans = [
      keep,
      span({ localEndpoint: { serviceName: 'healthcheck' } }),
      span({ name: 'get /health' }),
      span({ annotations: [{ timestamp: 1, value: 'skip' }] }),
      span({ tags: { 'http.path': '/ping' } }),
      span({ tags: { internal: '' } }),
    ];
    const out = await lastValueFrom(from([{ spans, receipts: [] } as SpanBatch]).pipe(filter({ rules, metrics })));
    expect(out.spans).toEqual([keep]);
    expect(await sample(registry, 'pintrace_collector_dropped_total', { stage: 'filter', reason: 'service=healthcheck' })).toBe(1);
    expect(await sample(registry, 'pintrace_collector_dropped_total', { stage: 'filter' })).toBe(5);
    expect(() => parseFilterRule('colour=red')).toThrow(/not one of/);
  });
});

function receipt(partition = 0, first = 0n) {
  return new Receipt('t', partition, first, first + 1n);
}

describe('group by trace', () => {
  it('holds spans of a trace across batches until it is inactive, and holds their offsets with them', () => {
    const scheduler = new VirtualTimeScheduler();
    const { metrics } = testMetrics();
    const grouper = groupByTrace({ metrics, inactivityMs: 1000, maxSpansPerTrace: 100, maxOpenTraces: 100, maxHeldSpans: 1000, scheduler });
    const input = new Subject<SpanBatch>();
    const out: TraceBatch[] = [];
    input.pipe(grouper.operator).subscribe((b) => out.push(b));
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
    const grouper = groupByTrace({ metrics, inactivityMs: 60_000, maxSpansPerTrace: 3, maxOpenTraces: 2, maxHeldSpans: 4, scheduler });
    const input = new Subject<SpanBatch>();
    const out: TraceBatch[] = [];
    input.pipe(grouper.operator).subscribe((b) => out.push(b));
    const t = (n: number) => n.toString(16).padStart(16, '0');
    input.next({ spans: [span({ traceId: t(1) }), span({ traceId: t(1) }), span({ traceId: t(1) })], receipts: [receipt()] });
    expect(out.flatMap((x) => x.traces).map((g) => g.closedBy)).toEqual(['max_spans_per_trace']);
    input.next({ spans: [span({ traceId: t(2) }), span({ traceId: t(3) }), span({ traceId: t(4) })], receipts: [receipt()] });
    expect(out.flatMap((x) => x.traces).map((g) => g.closedBy)).toEqual(['max_spans_per_trace', 'max_open_traces']);
    expect(grouper.openTraces()).toBe(2);
    const held = groupByTrace({ metrics, inactivityMs: 60_000, maxSpansPerTrace: 100, maxOpenTraces: 100, maxHeldSpans: 2, scheduler });
    const heldOut: TraceBatch[] = [];
    const heldIn = new Subject<SpanBatch>();
    heldIn.pipe(held.operator).subscribe((b) => heldOut.push(b));
    heldIn.next({ spans: [span({ traceId: t(5) }), span({ traceId: t(6) }), span({ traceId: t(7) })], receipts: [receipt()] });
    expect(heldOut.flatMap((x) => x.traces).map((g) => [g.traceId, g.closedBy])).toEqual([[t(5), 'max_held_spans']]);
    expect(await sample(registry, 'pintrace_collector_traces_closed_total', { reason: 'max_open_traces' })).toBe(1);
    input.complete();
    expect(out.flatMap((x) => x.traces).at(-1)!.closedBy).toBe('complete');
  });

  it('forgets spans of revoked partitions without releasing other partitions', () => {
    const { metrics } = testMetrics();
    const grouper = groupByTrace({ metrics, inactivityMs: 60_000, maxSpansPerTrace: 100, maxOpenTraces: 100, maxHeldSpans: 100, scheduler: new VirtualTimeScheduler() });
    const input = new Subject<SpanBatch>();
    const out: TraceBatch[] = [];
    input.pipe(grouper.operator).subscribe((b) => out.push(b));
    const r0 = receipt(0);
    const r1 = receipt(1);
    input.next({ spans: [span()], receipts: [r0] });
    input.next({ spans: [span()], receipts: [r1] });
    grouper.revoke(new Set(['t\u00001']));
    expect(grouper.openTraces()).toBe(1);
    expect(r0.released).toBe(true);
    expect(r1.released).toBe(false);
  });
});

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

describe('group by time window', () => {
  it('emits tumbling windows aligned to their size, early when full', () => {
    const scheduler = new VirtualTimeScheduler(VirtualAction, 5000);
    const input = new Subject<number>();
    const out: Array<{ start: number; items: number[]; partial: boolean }> = [];
    input.pipe(groupByTimeWindow<number>({ sizeMs: 1000, maxItems: 3, scheduler })).subscribe((w) => out.push({ start: w.start, items: w.items, partial: w.partial }));
    input.next(1);
    input.next(2);
    input.next(3);
    input.next(4);
    scheduler.flush();
    expect(out.slice(0, 2)).toEqual([
      { start: 0, items: [1, 2, 3], partial: true },
      { start: 0, items: [4], partial: false },
    ]);
  });
});
