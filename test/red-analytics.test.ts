/**
 * RED analytics end to end on a private devstack (block 2.7: Kafka :36092, Elasticsearch :36200):
 * spans of known shape → Kafka → collector(s) with `--red-window-ms 1000` → `<prefix>-red-*` and
 * /metrics → the ui-proxy's `GET /api/v2/pintrace/red`.
 *  - 100 %: exact calls and errors per window and in the API, the same on /metrics;
 *  - the API's p99 lies in the histogram bucket that holds the true p99;
 *  - 1 % through the real tracer's sampler (the rate recorded as `sampling.threshold`): calls and
 *    errors within 10 % of the traffic's truth;
 *  - one collector and three collectors of one group: the same totals, window by window.
 * Run alone: flock /tmp/pintrace-it.lock npx vitest run --project integration test/red-analytics.test.ts
 */
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { startCollector, type Collector } from '@pintrace/collector';
import { createAdmin, createProducer, type SpanProducer, type TopicAdmin } from '@pintrace/kafka';
import { SAMPLING_THRESHOLD_TAG, thresholdOfPercent, type Span } from '@pintrace/model';
import { createLogger, resolveConfig } from '@pintrace/runtime';
import { ProbabilisticSampler } from '@pintrace/sampler';
import { bucketIndex, type RedWindowDocument } from '@pintrace/storage';
import { InMemorySpanSink, silentLogger, startTracing } from '@pintrace/tracer';
import { startUiProxy, uiOptions, type UiProxy } from '@pintrace/ui-proxy';
import { redTotals, type RedTotal } from '../storage/test/red-totals.js';
import type { RedPoint } from '../ui-proxy/src/red-api.js';
import { hex } from './collector-fixtures.js';
import { testCollectorConfig } from './support/collector-config.js';
import { privateDevstack } from './support/private-devstack.js';
import { eventually, uniqueName } from './support/servers.js';

const ds = privateDevstack('red', 2.7, ['kafka', 'elasticsearch'], { heap: '384m' });
const brokers = ds.kafka.split(',');
const log = createLogger('red-test', { level: process.env.PINTRACE_LOG_LEVEL ?? 'warn' });
const WINDOW_MS = 1000;

let admin: TopicAdmin;
let producer: SpanProducer;
const running: Array<{ shutdown(): Promise<void> }> = [];

beforeAll(async () => {
  await ds.start();
  admin = createAdmin(brokers);
  producer = createProducer({ brokers });
  await producer.connect();
}, 300_000);

afterAll(async () => {
  for (const r of running.reverse()) await r.shutdown().catch(() => undefined);
  await producer?.disconnect();
  await admin?.close();
  // the private store keeps its data dir between runs: leave no windows or templates of ours in it
  const indices = (await (await fetch(`${ds.es}/_cat/indices/pred*?h=index&format=json`)).json().catch(() => [])) as Array<{ index: string }>;
  for (const { index } of indices) await fetch(`${ds.es}/${index}`, { method: 'DELETE' });
  const templates = (await (await fetch(`${ds.es}/_template/pred*`)).json().catch(() => ({}))) as Record<string, unknown>;
  for (const name of Object.keys(templates)) await fetch(`${ds.es}/_template/${name}`, { method: 'DELETE' });
  await ds.stop();
}, 120_000);

async function collector(topic: string, prefix: string, group = `${topic}-g`): Promise<{ collector: Collector; registry: Registry }> {
  const registry = new Registry();
  const config = testCollectorConfig(
    { kafka: brokers, es: ds.es, topic, indexPrefix: prefix },
    { groupId: group, sessionTimeoutMs: 6000, redWindowMs: WINDOW_MS },
  );
  const c = await startCollector(config, { log, registry });
  running.push(c);
  return { collector: c, registry };
}

async function proxy(prefix: string): Promise<UiProxy> {
  const config = resolveConfig(uiOptions, { flags: { port: 0, es: ds.es, indexPrefix: prefix, lensDir: 'var/lens' }, env: {} });
  const p = await startUiProxy(config, { log });
  running.push(p);
  return p;
}

async function send(topic: string, spans: readonly Span[]): Promise<void> {
  const byTrace = new Map<string, Span[]>();
  for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
  const messages = [...byTrace.entries()].map(([key, list]) => ({ key, value: JSON.stringify(list) }));
  for (let i = 0; i < messages.length; i += 500) await producer.send(topic, messages.slice(i, i + 500));
}

async function red(p: UiProxy, query: Record<string, string | number>): Promise<RedPoint[]> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`http://127.0.0.1:${p.port}/api/v2/pintrace/red?${qs}`);
  expect(res.status).toBe(200);
  return (await res.json()) as RedPoint[];
}

/** Every window document of a prefix, summed per (window, key). */
async function storedTotals(prefix: string): Promise<Map<string, RedTotal>> {
  await fetch(`${ds.es}/${prefix}-red-*/_refresh`, { method: 'POST' });
  const res = await fetch(`${ds.es}/${prefix}-red-*/_search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ size: 10_000, query: { match_all: {} } }),
  });
  const body = (await res.json()) as { hits: { hits: Array<{ _source: RedWindowDocument }> } };
  return redTotals(body.hits.hits.map((h) => h._source));
}

async function collectorsOf(prefix: string): Promise<Set<string>> {
  const res = await fetch(`${ds.es}/${prefix}-red-*/_search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ size: 0, aggs: { c: { terms: { field: 'collector', size: 10 } } } }),
  });
  const body = (await res.json()) as { aggregations: { c: { buckets: Array<{ key: string }> } } };
  return new Set(body.aggregations.c.buckets.map((b) => b.key));
}

/**
 * Known traffic of one service: `n` server spans over two endpoints, spread over ~20 windows ending
 * 30 s ago; every 10th an error; durations mostly 1-20 ms with 1 % slow (300-305 ms).
 */
function knownTraffic(service: string, n: number, extraTags: Record<string, string> = {}): Span[] {
  const base = Math.floor((Date.now() - 60_000) / WINDOW_MS) * WINDOW_MS;
  return Array.from({ length: n }, (_, i) => {
    const traceId = hex(8);
    const duration = i % 100 === 0 ? 300_000 + (i % 5_000) : 1_000 + ((i * 7919) % 19_000);
    return {
      traceId,
      id: traceId,
      kind: 'SERVER' as const,
      name: i % 3 === 0 ? 'get /b' : 'get /a',
      timestamp: (base + ((i * 4) % 20_000)) * 1000,
      duration,
      localEndpoint: { serviceName: service },
      tags: { ...(i % 10 === 3 ? { error: '500' } : {}), ...extraTags },
    };
  });
}

const sumSteps = (steps: readonly RedPoint[]) => steps.reduce((t, s) => ({ calls: t.calls + s.calls, errors: t.errors + s.errors }), { calls: 0, errors: 0 });

describe('RED windows', () => {
  it('at 100 %: exact calls and errors per window, in the API and on /metrics; the p99 in the true p99 bucket', async () => {
    const topic = uniqueName('red-exact');
    const prefix = uniqueName('pred');
    await admin.ensureTopic(topic, 3);
    const { registry } = await collector(topic, prefix);
    const p = await proxy(prefix);
    const spans = knownTraffic('shop', 5_000);
    await send(topic, spans);
    const query = { serviceName: 'shop', endTs: Date.now() + 60_000, lookback: 600_000, step: 600_000 };
    await eventually(async () => ((await red(p, query))[0]!.calls === spans.length ? true : undefined), { what: '5000 calls in the API', timeoutMs: 90_000 });
    const [all] = await red(p, query);
    expect(all).toMatchObject({ calls: 5_000, errors: 500 });
    // per window and endpoint, the stored sums equal the traffic's
    const truth = new Map<string, { calls: number; errors: number }>();
    for (const s of spans) {
      const key = `${Math.floor(s.timestamp! / 1000 / WINDOW_MS) * WINDOW_MS}|shop|${s.name}|SERVER|`;
      const t = truth.get(key) ?? { calls: 0, errors: 0 };
      t.calls += 1;
      if (s.tags?.error) t.errors += 1;
      truth.set(key, t);
    }
    const stored = await storedTotals(prefix);
    expect(new Map([...stored].map(([k, v]) => [k, { calls: v.calls, errors: v.errors }]))).toEqual(truth);
    // one endpoint alone, and its p99 in the bucket of the true p99
    const durations = spans
      .filter((s) => s.name === 'get /b')
      .map((s) => s.duration!)
      .sort((a, b) => a - b);
    const [endpoint] = await red(p, { ...query, spanName: 'get /b' });
    expect(endpoint!.calls).toBe(durations.length);
    const trueP99 = durations[Math.ceil(0.99 * durations.length) - 1]!;
    expect(bucketIndex(endpoint!.p99!)).toBe(bucketIndex(trueP99));
    expect(bucketIndex(endpoint!.p50!)).toBe(bucketIndex(durations[Math.ceil(0.5 * durations.length) - 1]!));
    // steps of one window: each step holds its window's calls
    const perWindow = await red(p, { serviceName: 'shop', endTs: Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS, lookback: 120_000, step: WINDOW_MS });
    expect(perWindow).toHaveLength(120);
    expect(sumSteps(perWindow)).toEqual({ calls: 5_000, errors: 500 });
    expect(Math.max(...perWindow.map((s) => s.calls))).toBe(250);
    // /metrics: the same totals
    const calls = (await registry.getSingleMetric('pintrace_collector_red_calls_total')!.get()).values.filter((v) => v.labels.service === 'shop');
    expect(calls.reduce((n, v) => n + v.value, 0)).toBe(5_000);
    const text = await registry.metrics();
    expect(text).toMatch(/pintrace_collector_red_duration_seconds_count\{service="shop",span_name="get \/a",kind="SERVER",remote_service=""\} \d+/);
    console.log(JSON.stringify({ test: 'red-exact', spans: spans.length, api: all, endpointP99: endpoint!.p99, trueP99 }));
  });

  it("at 1 % through the tracer's sampler: calls and errors within 10 % of the truth", async () => {
    const topic = uniqueName('red-sampled');
    const prefix = uniqueName('pred');
    await admin.ensureTopic(topic, 3);
    await collector(topic, prefix);
    const p = await proxy(prefix);
    const sink = new InMemorySpanSink();
    const tracing = startTracing({ serviceName: 'sampled-svc', sink, sampler: new ProbabilisticSampler(1), registerGlobal: false, logger: silentLogger });
    const TRUTH = 300_000;
    const start = Date.now() - 60_000;
    let errors = 0;
    for (let i = 0; i < TRUTH; i++) {
      // Dates: a number before the process start would be read as performance.now() time (OTel's rule)
      const span = tracing.tracer.startSpan('get /checkout', { kind: SpanKind.SERVER, startTime: new Date(start + (i % 20_000)) });
      if (i % 2 === 0) {
        errors++;
        span.setAttribute('error', 'true');
      }
      span.end(new Date(start + (i % 20_000) + 5));
    }
    await tracing.shutdown();
    const sampled = sink.spans() as Span[];
    expect(sampled.every((s) => s.tags?.[SAMPLING_THRESHOLD_TAG] === thresholdOfPercent(1))).toBe(true);
    await send(topic, sampled);
    const query = { serviceName: 'sampled-svc', endTs: Date.now() + 60_000, lookback: 600_000, step: 600_000 };
    // every sampled span counts 100 (within float noise); wait until all are in
    await eventually(async () => (Math.round((await red(p, query))[0]!.calls / 100) === sampled.length ? true : undefined), {
      what: `${sampled.length} sampled spans`,
      timeoutMs: 90_000,
    });
    const [all] = await red(p, query);
    console.log(JSON.stringify({ test: 'red-sampled', truthCalls: TRUTH, truthErrors: errors, sampled: sampled.length, api: all }));
    expect(Math.abs(all!.calls - TRUTH) / TRUTH).toBeLessThan(0.1);
    expect(Math.abs(all!.errors - errors) / errors).toBeLessThan(0.1);
  });

  it('one collector and three collectors of one group report the same totals, window by window', async () => {
    const one = { topic: uniqueName('red-one'), prefix: uniqueName('predone') };
    const three = { topic: uniqueName('red-three'), prefix: uniqueName('predthree') };
    await admin.ensureTopic(one.topic, 6);
    await admin.ensureTopic(three.topic, 6);
    await collector(one.topic, one.prefix);
    for (let i = 0; i < 3; i++) await collector(three.topic, three.prefix);
    // warm-up until every partition of the three-member group has been consumed and committed, so
    // the group is settled before the measured traffic (spans redelivered by a rebalance would count twice)
    const warm = async () => {
      const marker = knownTraffic('warmup', 60);
      await send(three.topic, marker);
      await eventually(
        async () => {
          const [end, committed] = await Promise.all([admin.endOffsets(three.topic), admin.groupOffsets(`${three.topic}-g`, three.topic)]);
          return end.every((e) => committed.find((c) => c.partition === e.partition)?.offset === e.offset) ? true : undefined;
        },
        { what: 'warm-up committed', timeoutMs: 90_000 },
      );
    };
    await warm();
    await new Promise((r) => setTimeout(r, 7_000));
    await warm();
    // a scaled share too (th of 25 %: weight exactly 4), so sums of fractions are compared as well
    const spans = [...knownTraffic('merge', 4_000), ...knownTraffic('merge', 1_000, { [SAMPLING_THRESHOLD_TAG]: thresholdOfPercent(25)! })];
    await send(one.topic, spans);
    await send(three.topic, spans);
    const total = (m: Map<string, { calls: number }>) => [...m].filter(([k]) => k.includes('|merge|')).reduce((n, [, v]) => n + v.calls, 0);
    for (const { prefix } of [one, three]) {
      await eventually(async () => (total(await storedTotals(prefix)) === 8_000 ? true : undefined), {
        what: `8000 scaled calls in ${prefix}`,
        timeoutMs: 90_000,
      });
    }
    const only = (m: Map<string, unknown>) => new Map([...m].filter(([k]) => k.includes('|merge|')));
    expect(only(await storedTotals(three.prefix))).toEqual(only(await storedTotals(one.prefix)));
    expect((await collectorsOf(three.prefix)).size).toBe(3);
    const [a, b] = [await proxy(one.prefix), await proxy(three.prefix)];
    const query = { serviceName: 'merge', endTs: Date.now() + 60_000, lookback: 600_000, step: 60_000 };
    expect(await red(b, query)).toEqual(await red(a, query));
    console.log(JSON.stringify({ test: 'red-merge', spans: spans.length, scaledCalls: 8_000, collectors: 3 }));
  });
});
