/**
 * RED windows on OpenSearch 2.19 (issue 14's first-class store, issue 16's analytics): the RED
 * series, the service and span-name lists and the health page's per-endpoint totals are sums the
 * store computes (a histogram of steps or a terms of span names, a `sum` per field over doc values
 * the red template maps), so each must be shown on OpenSearch, not only on Elasticsearch.
 *
 * A private devstack (block 4.3: OpenSearch 2.19 on 52200, nothing else) gets the templates as the
 * collector installs them (legacy `_template`, and composable `_index_template` with a priority, in
 * two prefixes), then window documents of known sums — two collectors, two span names, late
 * flushes, fractional (sampling-scaled) calls — written by the store's own writer. The ui-proxy's
 * answers must equal what the documents add up to, step by step, and the health page must list
 * each endpoint. Run alone: npx vitest run --project integration test/red-opensearch.test.ts
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, resolveConfig } from '@pintrace/runtime';
import {
  createEsHttp,
  ElasticsearchRedWindowStore,
  ElasticsearchSpanWriter,
  RED_BUCKET_BOUNDS_US,
  RED_BUCKET_FIELDS,
  type EsHttp,
  type RedStep,
  type RedWindowDocument,
} from '@pintrace/storage';
import { startUiProxy, uiOptions, type UiProxy } from '@pintrace/ui-proxy';
import { redPoint, type RedPoint } from '../ui-proxy/src/red-api.js';
import { privateDevstack } from './support/private-devstack.js';
import { getJson, uniqueName } from './support/servers.js';

const ds = privateDevstack('red-opensearch', 4.3, ['elasticsearch'], { storage: 'opensearch', heap: '384m' });
const log = createLogger('red-opensearch-test', { level: process.env.PINTRACE_LOG_LEVEL ?? 'warn' });
const WINDOW_MS = 10_000;
const WINDOWS = 12;
const SERVICE = 'shop';
const NAMES = ['get /a', 'post /b'] as const;

let http: EsHttp;
const running: Array<{ shutdown(): Promise<void> }> = [];

beforeAll(async () => {
  await ds.start();
  http = createEsHttp({ url: ds.es });
}, 300_000);

afterAll(async () => {
  for (const r of running.reverse()) await r.shutdown().catch(() => undefined);
  await http?.close();
  await ds.stop();
}, 120_000);

/** Windows ending a minute ago, so the daily index and the steps are fixed while the test runs. */
const base = Math.floor((Date.now() - 60_000 - WINDOWS * WINDOW_MS) / WINDOW_MS) * WINDOW_MS;

/**
 * Known documents: per window and span name, two collectors' first flushes and a late flush of
 * one; calls in quarters (a 25 % rate's scaling, exact in binary, so any order of summing gives
 * the same number), errors a quarter of them, durations in a bucket that moves with the window.
 */
function knownWindows(): RedWindowDocument[] {
  const docs: RedWindowDocument[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    NAMES.forEach((spanName, n) => {
      for (const [collector, flush, calls] of [
        ['g/host-1/1/aa', 0, 4 * (w + 1) + n],
        ['g/host-2/7/bb', 0, 2.25 * (w + 2)],
        ['g/host-1/1/aa', 1, 0.75],
      ] as const) {
        const buckets = new Array<number>(RED_BUCKET_BOUNDS_US.length + 1).fill(0);
        buckets[(w + 3 * n) % 12] = calls * 0.75;
        buckets[17] = calls * 0.25;
        docs.push({
          timestamp_millis: base + w * WINDOW_MS,
          windowMs: WINDOW_MS,
          collector,
          flush,
          serviceName: SERVICE,
          spanName,
          kind: 'SERVER',
          remoteServiceName: '',
          calls,
          errors: calls / 4,
          durationSumUs: calls * 1000,
          buckets,
        });
      }
    });
  }
  return docs;
}

/** The documents summed per step of the query (a window counts in the step where it starts). */
function expectedSteps(docs: readonly RedWindowDocument[], stepMs: number, endTs: number, lookback: number, spanName?: string): RedPoint[] {
  const start = endTs - lookback;
  const steps: RedStep[] = Array.from({ length: Math.ceil(lookback / stepMs) }, (_, i) => ({
    timestamp: start + i * stepMs,
    calls: 0,
    errors: 0,
    buckets: new Array<number>(RED_BUCKET_BOUNDS_US.length + 1).fill(0),
  }));
  for (const d of docs) {
    if (spanName !== undefined && d.spanName !== spanName) continue;
    if (d.timestamp_millis < start || d.timestamp_millis >= endTs) continue;
    const s = steps[Math.floor((d.timestamp_millis - start) / stepMs)]!;
    s.calls += d.calls;
    s.errors += d.errors;
    d.buckets.forEach((b, i) => (s.buckets[i]! += b));
  }
  return steps.map(redPoint);
}

async function proxy(prefix: string): Promise<UiProxy> {
  const config = resolveConfig(uiOptions, { flags: { port: 0, es: ds.es, indexPrefix: prefix, lensDir: 'var/lens' }, env: {} });
  const p = await startUiProxy(config, { log });
  running.push(p);
  return p;
}

async function api<T>(p: UiProxy, path: string, query: Record<string, string | number>): Promise<T> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
  return getJson<T>(`http://127.0.0.1:${p.port}${path}?${qs}`);
}

it('the store is OpenSearch 2.19', async () => {
  const root = await getJson<{ version: { distribution?: string; number: string } }>(ds.es);
  expect(root.version.distribution).toBe('opensearch');
  expect(root.version.number).toMatch(/^2\.19\./);
});

describe.each([
  ['legacy templates (_template)', undefined],
  ['composable templates (_index_template, priority 10)', 10],
])('RED windows on OpenSearch 2.19, %s', (_label, templatePriority) => {
  const prefix = uniqueName('pros');
  const docs = knownWindows();
  const store = () => new ElasticsearchRedWindowStore({ http, index: prefix });
  let p: UiProxy;

  beforeAll(async () => {
    // the templates exactly as the collector installs them with RED windows on
    const writer = new ElasticsearchSpanWriter({ http, index: prefix, templates: { red: true, shards: 1, replicas: 0, templatePriority } });
    running.push(writer);
    await writer.start();
    await store().write(docs);
    await fetch(`${ds.es}/${prefix}-red-*/_refresh`, { method: 'POST' });
    p = await proxy(prefix);
  }, 120_000);

  it('the red index took the template: every duration bucket is a summable number field', async () => {
    const mappings = await getJson<Record<string, { mappings: { properties: Record<string, { type?: string }> } }>>(`${ds.es}/${prefix}-red-*/_mapping`);
    // one daily index, or two when the windows straddle midnight UTC
    const indices = Object.entries(mappings);
    expect(indices.length).toBeGreaterThanOrEqual(1);
    for (const [index, { mappings: m }] of indices) {
      for (const field of ['calls', 'errors', ...RED_BUCKET_FIELDS])
        expect(m.properties[field]?.type, `${index} ${field}`).toMatch(/^(double|float|long|scaled_float)$/);
    }
    const count = await getJson<{ count: number }>(`${ds.es}/${prefix}-red-*/_count`);
    expect(count.count).toBe(docs.length);
  });

  it("the series of the service and of each endpoint equal the documents' sums, step by step", async () => {
    const endTs = base + WINDOWS * WINDOW_MS;
    for (const [stepMs, lookback] of [
      [WINDOW_MS, WINDOWS * WINDOW_MS],
      [30_000, WINDOWS * WINDOW_MS],
      [WINDOW_MS, 5 * WINDOW_MS],
    ] as const) {
      const query = { serviceName: SERVICE, endTs, lookback, step: stepMs };
      const series = await api<RedPoint[]>(p, '/api/v2/pintrace/red', query);
      expect(series, `step ${stepMs}, lookback ${lookback}`).toEqual(expectedSteps(docs, stepMs, endTs, lookback));
      for (const spanName of NAMES) {
        const endpoint = await api<RedPoint[]>(p, '/api/v2/pintrace/red', { ...query, spanName });
        expect(endpoint, `${spanName}, step ${stepMs}`).toEqual(expectedSteps(docs, stepMs, endTs, lookback, spanName));
      }
    }
    // the checks above would pass on an empty store only if the expectation were empty too
    const [all] = await api<RedPoint[]>(p, '/api/v2/pintrace/red', { serviceName: SERVICE, endTs, lookback: WINDOWS * WINDOW_MS, step: WINDOWS * WINDOW_MS });
    expect(all!.calls).toBe(docs.reduce((n, d) => n + d.calls, 0));
    expect(all!.calls).toBeGreaterThan(0);
  });

  it("lists the service and its span names; the per-endpoint totals the health page draws equal the documents' sums, and the page names each endpoint", async () => {
    const range = { endTs: base + WINDOWS * WINDOW_MS, lookback: WINDOWS * WINDOW_MS };
    expect(await api<string[]>(p, '/api/v2/pintrace/red/services', range)).toEqual([SERVICE]);
    expect(await api<string[]>(p, '/api/v2/pintrace/red/spans', { ...range, serviceName: SERVICE })).toEqual([...NAMES]);
    // the page's per-endpoint totals come from the store's terms aggregation
    const { bySpanName } = await store().queryService({ serviceName: SERVICE, ...range, stepMs: WINDOW_MS });
    for (const spanName of NAMES) {
      const mine = docs.filter((d) => d.spanName === spanName);
      expect(bySpanName.get(spanName), spanName).toMatchObject({
        calls: mine.reduce((n, d) => n + d.calls, 0),
        errors: mine.reduce((n, d) => n + d.errors, 0),
      });
    }
    const pageQuery = new URLSearchParams({ serviceName: SERVICE, endTs: String(range.endTs), lookback: String(range.lookback) });
    const page = await fetch(`http://127.0.0.1:${p.port}/zipkin/pintrace/health?${pageQuery}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    for (const spanName of NAMES) expect(html).toContain(spanName);
  });
});
