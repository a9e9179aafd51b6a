import { describe, expect, it } from 'vitest';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { Registry } from 'prom-client';
import { SAMPLING_THRESHOLD_TAG, thresholdOfPercent, type Span } from '@pintrace/model';
import { aggregateRed } from '../src/aggregate-red.js';
import { createRedMetrics } from '../src/red-metrics.js';
import { OVERFLOW_LABEL, RedWindows } from '../src/red-windows.js';
import type { SpanBatch } from '../src/types.js';
import type { RedWindowDocument } from '@pintrace/storage';
import { redTotals } from '../../storage/test/red-totals.js';
import { sample, silentLog, span, testMetrics, until } from './fakes.js';

const W = 10_000;
const T0 = 1_700_000_000_000; // a window start (multiple of 10 s), epoch ms
const at = (ms: number) => (T0 + ms) * 1000; // span timestamps are µs

function windows(collectorId = 'c1', extra: Partial<ConstructorParameters<typeof RedWindows>[0]> = {}) {
  return new RedWindows({ windowMs: W, collectorId, ...extra });
}

function traffic(n: number): Span[] {
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    spans.push(
      span({
        name: i % 3 === 0 ? 'get /a' : 'get /b',
        kind: i % 2 === 0 ? 'SERVER' : 'CLIENT',
        timestamp: at((i * 37) % 30_000),
        duration: 50 + ((i * 7919) % 200_000),
        localEndpoint: { serviceName: i % 5 === 0 ? 'front' : 'back' },
        ...(i % 2 === 1 ? { remoteEndpoint: { serviceName: 'db' } } : {}),
        ...(i % 10 === 0 ? { tags: { error: 'boom' } } : {}),
      }),
    );
  }
  return spans;
}

describe('RED windows', () => {
  it('counts calls, errors and durations per span-time window and key, exactly at 100 %', () => {
    const red = windows();
    red.add(
      [
        span({ name: 'get /a', kind: 'SERVER', timestamp: at(1), duration: 90 }),
        span({ name: 'get /a', kind: 'SERVER', timestamp: at(9_999), duration: 400, tags: { error: '500' } }),
        span({ name: 'get /a', kind: 'SERVER', timestamp: at(10_000), duration: 7_000 }),
        span({ name: 'get /a', kind: 'CLIENT', timestamp: at(2), duration: 100, remoteEndpoint: { serviceName: 'db' } }),
      ],
      T0,
    );
    const docs = red.closeAll();
    const byKey = redTotals(docs);
    expect(byKey.get(`${T0}|svc|get /a|SERVER|`)).toMatchObject({ calls: 2, errors: 1 });
    expect(byKey.get(`${T0}|svc|get /a|SERVER|`)!.buckets.slice(0, 3)).toEqual([1, 0, 1]);
    expect(byKey.get(`${T0 + W}|svc|get /a|SERVER|`)).toMatchObject({ calls: 1, errors: 0 });
    expect(byKey.get(`${T0}|svc|get /a|CLIENT|db`)).toMatchObject({ calls: 1 });
    expect(docs.every((d) => d.collector === 'c1' && d.flush === 0 && d.windowMs === W)).toBe(true);
  });

  it('scales each span by the inverse of its recorded rate; spans without one count once', () => {
    const red = windows();
    const th = thresholdOfPercent(1)!;
    red.add(
      [
        span({ timestamp: at(5), duration: 1_000, tags: { [SAMPLING_THRESHOLD_TAG]: th } }),
        span({ timestamp: at(6), duration: 1_000, tags: { [SAMPLING_THRESHOLD_TAG]: th, error: 'x' } }),
        span({ timestamp: at(7), duration: 1_000 }),
        span({ timestamp: at(8), duration: 1_000, tags: { [SAMPLING_THRESHOLD_TAG]: 'not hex' } }),
      ],
      T0,
    );
    const [doc] = red.closeAll();
    expect(doc!.calls).toBeCloseTo(202, 9);
    expect(doc!.errors).toBeCloseTo(100, 9);
    expect(doc!.buckets[3]).toBeCloseTo(202, 9);
    expect(doc!.durationSumUs).toBeCloseTo(202_000, 6);
  });

  it('keys root spans by their sampling endpoint too, counting stored roots unscaled beside the scaled calls', () => {
    const red = windows();
    const th = thresholdOfPercent(10)!;
    red.add(
      [
        span({ name: 'get', kind: 'SERVER', timestamp: at(1), tags: { 'http.path': '/Pay', [SAMPLING_THRESHOLD_TAG]: th } }),
        span({ name: 'get', kind: 'SERVER', timestamp: at(2), tags: { 'http.path': '/pay', [SAMPLING_THRESHOLD_TAG]: th } }),
        span({ name: 'get', kind: 'SERVER', timestamp: at(3), tags: { 'http.path': '/cart' } }),
        span({ name: 'tick', timestamp: at(4) }),
        span({ name: 'get', kind: 'SERVER', parentId: '00000000000000aa', timestamp: at(5), tags: { 'http.path': '/pay' } }),
      ],
      T0,
    );
    const docs = red.closeAll();
    const roots = docs.filter((d) => d.endpoint !== undefined).map((d) => [d.endpoint, d.roots, Math.round(d.calls)]);
    expect(roots.sort()).toEqual([
      ['/cart', 1, 1],
      ['/pay', 2, 20],
      ['tick', 1, 1],
    ]);
    // a child span is no root: no endpoint, no roots
    expect(docs.filter((d) => d.endpoint === undefined)).toMatchObject([{ spanName: 'get', calls: 1 }]);
    expect(docs.find((d) => d.endpoint === undefined)!.roots).toBeUndefined();
    // the RED sums per span name are what they were
    expect(redTotals(docs).get(`${T0}|svc|get|SERVER|`)!.calls).toBeCloseTo(22, 9);
    // endpoints are capped per service like the other labels
    const capped = windows('c1', { maxEndpointsPerService: 1 });
    capped.add([span({ timestamp: at(1), tags: { 'http.path': '/a' } }), span({ timestamp: at(2), tags: { 'http.path': '/b' } })], T0);
    expect(
      capped
        .closeAll()
        .map((d) => d.endpoint)
        .sort(),
    ).toEqual(['/a', OVERFLOW_LABEL]);
  });

  it('the same spans through one or three collectors, in any order and split any way, sum to the same totals', () => {
    const spans = traffic(3000);
    const one = windows('one');
    one.add(spans, T0);
    const expected = redTotals(one.closeAll());
    const three = [windows('a'), windows('b'), windows('c')];
    // split by trace id as Kafka partitions would, and feed in another order
    [...spans].reverse().forEach((s, i) => three[parseInt(s.traceId.slice(-2), 16) % 3]!.add([s], T0 + i));
    const docs = three.flatMap((w) => w.closeAll());
    expect(
      new Set(docs.map((d) => `${d.collector}|${d.timestamp_millis}|${d.flush}|${d.serviceName}|${d.spanName}|${d.kind}|${d.remoteServiceName}`)).size,
    ).toBe(docs.length);
    expect(redTotals(docs)).toEqual(expected);
  });

  it('closes a window a grace after its end and its last span; late spans go to a new flush of it, never rewriting the first', () => {
    const red = windows();
    red.add([span({ timestamp: at(100) })], T0);
    expect(red.closeDue(T0 + 2 * W - 1)).toEqual([]);
    const first = red.closeDue(T0 + 2 * W);
    expect(first.map((d) => [d.flush, d.calls])).toEqual([[0, 1]]);
    red.add([span({ timestamp: at(200) }), span({ timestamp: at(300) })], T0 + 3 * W);
    expect(red.closeDue(T0 + 4 * W - 1)).toEqual([]); // a grace of quiet after its last span
    const late = red.closeDue(T0 + 4 * W);
    expect(late.map((d) => [d.timestamp_millis, d.flush, d.calls])).toEqual([[T0, 1, 2]]);
    expect(red.openWindows).toBe(0);
    // spans that keep coming hold a window open at most six windows past its end
    for (let t = T0 + 5 * W; t < T0 + 7 * W; t += W / 2) expect(red.add([span({ timestamp: at(400) })], t).closed).toEqual([]);
    expect(red.closeDue(T0 + 7 * W - 1)).toEqual([]);
    expect(red.closeDue(T0 + 7 * W).map((d) => [d.flush, d.calls])).toEqual([[2, 4]]);
  });

  it('bounds cardinality: labels past their cap become __overflow__ and are counted; open windows are capped', () => {
    const overflow: string[] = [];
    const red = windows('c', {
      maxServices: 2,
      maxSpanNamesPerService: 2,
      maxRemoteServicesPerService: 1,
      maxOpenWindows: 2,
      onOverflow: (l) => overflow.push(l),
    });
    red.add(
      ['s1', 's2', 's3', 's4'].map((s) => span({ timestamp: at(1), localEndpoint: { serviceName: s } })),
      T0,
    );
    red.add(
      ['n1', 'n2', 'n3'].map((n) => span({ timestamp: at(1), name: n, localEndpoint: { serviceName: 's1' }, remoteEndpoint: { serviceName: n } })),
      T0,
    );
    const early = red.add([span({ timestamp: at(W) }), span({ timestamp: at(2 * W) })], T0).closed;
    expect(early.map((d) => d.timestamp_millis)).toEqual(early.map(() => T0));
    const docs = [...early, ...red.closeAll()];
    const services = redTotals(docs.filter((d) => d.timestamp_millis === T0));
    expect([...services.keys()].filter((k) => k.includes(OVERFLOW_LABEL)).length).toBeGreaterThan(0);
    expect(services.get(`${T0}|${OVERFLOW_LABEL}|get||`)!.calls).toBe(2);
    // s3, s4 and twice svc (later) past 2 services; n2, n3 past 2 names of s1 (get, n1); n1-n3 past 1 remote of s1 ('')
    expect(overflow.sort()).toEqual([
      'remote_service',
      'remote_service',
      'remote_service',
      'service',
      'service',
      'service',
      'service',
      'span_name',
      'span_name',
    ]);
    expect(docs.reduce((n, d) => n + d.calls, 0)).toBe(9);
  });
});

describe('stage red', () => {
  it('passes batches on unchanged, writes closed windows to the store and to /metrics, and flushes on completion', async () => {
    const { registry, metrics } = testMetrics();
    const promRegistry = new Registry();
    const red = createRedMetrics(promRegistry);
    const stored: RedWindowDocument[] = [];
    const store = { write: async (docs: readonly RedWindowDocument[]) => void stored.push(...docs) };
    const windowMs = 50;
    const state = new RedWindows({ windowMs, graceMs: 10, collectorId: 'c' });
    const input = new Subject<SpanBatch>();
    const out = lastValueFrom(input.pipe(aggregateRed(state, { metrics, red, log: silentLog, store, tickMs: 5 }), toArray()));
    const now = Date.now();
    const batch: SpanBatch = {
      spans: [
        span({ timestamp: now * 1000, duration: 300, tags: { [SAMPLING_THRESHOLD_TAG]: thresholdOfPercent(50)! } }),
        span({ timestamp: now * 1000, duration: 3_000_000, tags: { error: 'x' } }),
        span({ localEndpoint: undefined }),
      ],
      receipts: [],
    };
    input.next(batch);
    await until(() => stored.length > 0, 2000);
    expect(stored.reduce((n, d) => n + d.calls, 0)).toBe(3);
    const text = await promRegistry.metrics();
    expect(text).toContain('pintrace_collector_red_calls_total{service="svc",span_name="get",kind="",remote_service=""} 3');
    expect(text).toContain('pintrace_collector_red_errors_total{service="svc",span_name="get",kind="",remote_service=""} 1');
    expect(text).toContain('pintrace_collector_red_duration_seconds_bucket{service="svc",span_name="get",kind="",remote_service="",le="0.0005"} 2');
    expect(text).toContain('pintrace_collector_red_duration_seconds_bucket{service="svc",span_name="get",kind="",remote_service="",le="2.5"} 2');
    expect(text).toContain('pintrace_collector_red_duration_seconds_bucket{service="svc",span_name="get",kind="",remote_service="",le="+Inf"} 3');
    expect(text).toContain('pintrace_collector_red_duration_seconds_count{service="svc",span_name="get",kind="",remote_service=""} 3');
    expect(await sample(registry, 'pintrace_collector_dropped_total', { stage: 'red', reason: 'no_service_name' })).toBe(1);
    input.next({ spans: [span({ timestamp: Date.now() * 1000 })], receipts: [] });
    input.complete();
    const batches = await out;
    expect(batches[0]).toBe(batch);
    expect(stored.reduce((n, d) => n + d.calls, 0)).toBe(4);
  });
});
