/**
 * The service health page in a real headless chromium, on the devstack: demo-shaped traces of known
 * shape (frontend `get` → frontend `work` → backend `work` → `compute`, `memcache_get`,
 * `memcache_set`) → Kafka → a collector with `--red-window-ms 1000` → the store → the ui-proxy
 * under a custom base path with basic auth.
 *  - the overview lists the demo's services with drawn charts, the service page draws rate,
 *    errors and p50/p90/p99, one row per span name with the right totals;
 *  - each row's links open the Zipkin UI's search, which asks the API for that endpoint's slow
 *    (minDuration) or failing (annotationQuery=error) traces and lists them;
 *  - the Zipkin UI carries a visible link to the page and still works;
 *  - hostile service and span names are shown as text: no element, no script of theirs.
 * Screenshots: test/artifacts/health-*.png.
 * Run alone: flock /tmp/pintrace-it.lock npx vitest run --project integration test/red-health-page.test.ts
 */
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector } from '@pintrace/collector';
import { createAdmin, createProducer, type SpanProducer, type TopicAdmin } from '@pintrace/kafka';
import type { Span } from '@pintrace/model';
import { createLogger, resolveConfig } from '@pintrace/runtime';
import { startUiProxy, uiOptions } from '@pintrace/ui-proxy';
import { hex } from './collector-fixtures.js';
import { testCollectorConfig } from './support/collector-config.js';
import { ARTIFACTS, launchChromium } from './support/browser.js';
import { deleteIndices, esUrl, eventually, kafkaBrokers, uniqueName } from './support/servers.js';

const log = createLogger('health-page-test', { level: process.env.PINTRACE_LOG_LEVEL ?? 'warn' });
const BASE_PATH = '/ops/tracing';
const USER = { username: 'viewer', password: 'hea1th-pass' };
const topic = uniqueName('health');
const prefix = uniqueName('phealth');
const HOSTILE_SERVICE = '<img src=x onerror=alert(1)>"\'&';
const HOSTILE_SPAN = '</title><script>alert(2)</script><svg onload=alert(3)>';

let admin: TopicAdmin;
let producer: SpanProducer;
let ctx: BrowserContext;
let page: Page;
let base: string;
const running: Array<{ shutdown(): Promise<void> }> = [];
const dialogs: string[] = [];

interface Truth {
  calls: number;
  errors: number;
}

/**
 * `n` demo traces spread over the last 50 s: every 10th fails (frontend `get` and backend `work`
 * carry `error`), every 25th is slow (backend `work` 400-450 ms); otherwise 5-40 ms.
 */
function demoTraffic(n: number): { spans: Span[]; truth: Map<string, Truth> } {
  const now = Date.now();
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    const traceId = hex(16);
    const root = hex(8);
    const rpc = hex(8);
    const failed = i % 10 === 0;
    const slow = i % 25 === 7;
    const ts = (now - 50_000 + Math.floor((i * 50_000) / n)) * 1000;
    const work = slow ? 400_000 + i * 13 : 5_000 + ((i * 7919) % 30_000);
    const err: Record<string, string> = failed ? { error: 'boom' } : {};
    const frontend = { serviceName: 'frontend', ipv4: '127.0.0.1' };
    const backend = { serviceName: 'backend', ipv4: '127.0.0.1' };
    const cache = { serviceName: 'memcached' };
    spans.push(
      { traceId, id: root, kind: 'SERVER', name: 'get', timestamp: ts, duration: work + 2_000, localEndpoint: frontend, tags: { 'http.path': '/', ...err } },
      {
        traceId,
        parentId: root,
        id: rpc,
        kind: 'CLIENT',
        name: 'work',
        timestamp: ts + 500,
        duration: work + 500,
        localEndpoint: frontend,
        remoteEndpoint: backend,
      },
      {
        traceId,
        parentId: root,
        id: rpc,
        kind: 'SERVER',
        name: 'work',
        timestamp: ts + 700,
        duration: work,
        localEndpoint: backend,
        shared: true,
        tags: { ...err },
      },
      { traceId, parentId: rpc, id: hex(8), name: 'compute', timestamp: ts + 900, duration: work - 1_000, localEndpoint: backend },
      {
        traceId,
        parentId: rpc,
        id: hex(8),
        kind: 'CLIENT',
        name: 'memcache_get',
        timestamp: ts + 800,
        duration: 300,
        localEndpoint: backend,
        remoteEndpoint: cache,
      },
      {
        traceId,
        parentId: rpc,
        id: hex(8),
        kind: 'CLIENT',
        name: 'memcache_set',
        timestamp: ts + work,
        duration: 200,
        localEndpoint: backend,
        remoteEndpoint: cache,
      },
    );
  }
  const truth = new Map<string, Truth>();
  for (const s of spans) {
    const key = `${s.localEndpoint!.serviceName}|${s.name}`;
    const t = truth.get(key) ?? { calls: 0, errors: 0 };
    t.calls++;
    if (s.tags?.error !== undefined) t.errors++;
    truth.set(key, t);
  }
  return { spans, truth };
}

const TRACES = 400;
const traffic = demoTraffic(TRACES);

async function send(spans: readonly Span[]): Promise<void> {
  const byTrace = new Map<string, Span[]>();
  for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
  await producer.send(
    topic,
    [...byTrace.entries()].map(([key, list]) => ({ key, value: JSON.stringify(list) })),
  );
}

beforeAll(async () => {
  admin = createAdmin(kafkaBrokers);
  await admin.ensureTopic(topic, 2);
  producer = createProducer({ brokers: kafkaBrokers });
  await producer.connect();
  const config = testCollectorConfig({ kafka: kafkaBrokers, es: esUrl, topic, indexPrefix: prefix }, { redWindowMs: 1000 });
  running.push(await startCollector(config, { log, registry: new Registry() }));
  const proxyConfig = resolveConfig(uiOptions, {
    flags: { port: 0, es: esUrl, indexPrefix: prefix, basePath: BASE_PATH, users: `${USER.username}:${USER.password}`, lensDir: path.resolve('var', 'lens') },
    env: {},
  });
  const proxy = await startUiProxy(proxyConfig, { log });
  running.push(proxy);
  base = `http://127.0.0.1:${proxy.port}${BASE_PATH}`;
  const hostileTraceId = hex(16);
  await send([
    ...traffic.spans,
    {
      traceId: hostileTraceId,
      id: hostileTraceId.slice(16),
      kind: 'SERVER',
      name: HOSTILE_SPAN,
      timestamp: (Date.now() - 20_000) * 1000,
      duration: 1_234,
      localEndpoint: { serviceName: HOSTILE_SERVICE },
    },
  ]);
  // every call of every span name is in the windows (the API sums what the page draws)
  const auth = { authorization: `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}` };
  const total = async (service: string, spanName: string) => {
    const qs = new URLSearchParams({ serviceName: service, spanName, lookback: '600000', step: '600000', endTs: String(Date.now() + 60_000) });
    const res = await fetch(`${base}/api/v2/pintrace/red?${qs}`, { headers: auth });
    return ((await res.json()) as Array<{ calls: number }>)[0]!.calls;
  };
  await eventually(
    async () => {
      for (const [key, t] of traffic.truth) {
        const [service, name] = key.split('|') as [string, string];
        if ((await total(service, name)) !== t.calls) return undefined;
      }
      return (await total(HOSTILE_SERVICE.toLowerCase(), HOSTILE_SPAN.toLowerCase())) === 1 ? true : undefined;
    },
    { what: 'every span in the RED windows', timeoutMs: 90_000 },
  );
  ctx = await launchChromium({ httpCredentials: USER });
  page = await ctx.newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
}, 180_000);

afterAll(async () => {
  await ctx?.close();
  for (const r of running.reverse()) await r.shutdown().catch(() => undefined);
  await producer?.disconnect();
  await admin?.close();
  await deleteIndices(`${prefix}*`);
}, 60_000);

/** The numbers in a chart's drawn paths: a path with data has at least one `M x y`. */
async function drawnPaths(scope: string): Promise<string[]> {
  return page.locator(`${scope} svg.chart path.series`).evaluateAll((paths) => paths.map((p) => p.getAttribute('d') ?? ''));
}

describe('service health page in chromium', () => {
  it("lists the demo's services with drawn rate, error and latency charts", async () => {
    const res = await page.goto(`${base}/pintrace/health?lookback=900000`);
    expect(res?.status()).toBe(200);
    for (const service of ['frontend', 'backend']) {
      const row = page.locator(`tr.service[data-service="${service}"]`);
      await expect(row.locator('a').first().innerText()).resolves.toBe(service);
      const paths = await drawnPaths(`tr.service[data-service="${service}"]`);
      expect(paths).toHaveLength(3);
      // requests/s and p99 have points; errors/s too: both services have failing spans
      for (const d of paths) expect(d).toMatch(/^M[\d.]+ [\d.]+/);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'health-overview.png'), fullPage: true });
  });

  it('shows a service with rate, errors and p50/p90/p99 charts and a row per endpoint with its totals', async () => {
    await page.locator('tr.service[data-service="backend"] a').first().click();
    await page.waitForURL(/serviceName=backend/);
    expect(await page.locator('h1').innerText()).toBe('backend');
    const series = await page
      .locator('.charts svg.chart path.series')
      .evaluateAll((paths) => paths.map((p) => [p.getAttribute('data-series'), p.getAttribute('d')]));
    expect(series.map(([s]) => s)).toEqual(['calls', 'errors', 'p50', 'p90', 'p99']);
    for (const [, d] of series) expect(d).toMatch(/^M[\d.]+ [\d.]+ L/);
    const rows = await page
      .locator('tr.endpoint')
      .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-span-name'), ...[...tr.querySelectorAll('td')].slice(2, 4).map((td) => td.textContent)]));
    const expected = [...traffic.truth]
      .filter(([k]) => k.startsWith('backend|'))
      .map(([k, t]) => [k.split('|')[1], String(t.calls), String(t.errors)])
      .sort();
    expect([...rows].sort()).toEqual(expected);
    await page.screenshot({ path: path.join(ARTIFACTS, 'health-service.png'), fullPage: true });
  });

  it("links each endpoint to the Zipkin UI's search for its slowest and its failing traces", async () => {
    await page.goto(`${base}/pintrace/health?serviceName=frontend&lookback=900000`);
    const row = page.locator('tr.endpoint[data-span-name="get"]');
    const slowHref = (await row.locator('a.slowest').getAttribute('href'))!;
    const failHref = (await row.locator('a.failing').getAttribute('href'))!;
    for (const href of [slowHref, failHref]) {
      const url = new URL(href, base);
      expect(url.pathname).toBe(`${BASE_PATH}/`);
      expect([url.searchParams.get('serviceName'), url.searchParams.get('spanName'), url.searchParams.get('lookback'), url.searchParams.get('limit')]).toEqual([
        'frontend',
        'get',
        'millis',
        '10',
      ]);
    }
    // slowest: Lens asks for traces from the p99's bucket up (the slow 4 % are 400+ ms, p99 in (250, 500] ms)
    const minDuration = Number(new URL(slowHref, base).searchParams.get('minDuration'));
    expect(minDuration).toBe(250_000);
    const slowSearch = page.waitForResponse((r) => r.url().includes('/api/v2/traces?'));
    await row.locator('a.slowest').click();
    const slow = await slowSearch;
    const slowQuery = new URL(slow.url()).searchParams;
    expect(Object.fromEntries(['serviceName', 'spanName', 'minDuration', 'limit'].map((k) => [k, slowQuery.get(k)]))).toEqual({
      serviceName: 'frontend',
      spanName: 'get',
      minDuration: '250000',
      limit: '10',
    });
    const slowTraces = (await slow.json()) as Span[][];
    expect(slowTraces.length).toBe(10);
    for (const trace of slowTraces) expect(trace.find((s) => s.name === 'get')!.duration).toBeGreaterThanOrEqual(250_000);
    // Lens lists them (its results table shows the root of each)
    await page
      .getByText(/^frontend: get$/)
      .first()
      .waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'health-lens-slowest.png') });

    await page.goBack();
    const failSearch = page.waitForResponse((r) => r.url().includes('/api/v2/traces?'));
    await page.locator('tr.endpoint[data-span-name="get"] a.failing').click();
    const fail = await failSearch;
    expect(new URL(fail.url()).searchParams.get('annotationQuery')).toBe('error');
    const failTraces = (await fail.json()) as Span[][];
    expect(failTraces.length).toBe(10);
    for (const trace of failTraces) expect(trace.find((s) => s.name === 'get')!.tags?.error).toBe('boom');
  });

  it('the Zipkin UI shows a link to the page and still works', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('button', { name: /run query/i }).waitFor({ timeout: 20_000 });
    const link = page.locator('#pintrace-health-link');
    await expect(link.isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'health-lens-link.png') });
    await link.click();
    await page.waitForURL(`${base}/pintrace/health`);
    await page.locator('tr.service[data-service="frontend"]').waitFor();
  });

  it('shows hostile service and span names as text, with no element or script of theirs', async () => {
    await page.goto(`${base}/pintrace/health?lookback=900000`);
    const hostile = HOSTILE_SERVICE.toLowerCase();
    const row = page.locator('tr.service').filter({ hasText: '<img' });
    await expect(row.locator('td.name a').innerText()).resolves.toBe(hostile);
    await expect(row.getAttribute('data-service')).resolves.toBe(hostile);
    await row.locator('td.name a').click();
    await page.locator('tr.endpoint').first().waitFor();
    await expect(page.locator('h1').innerText()).resolves.toBe(hostile);
    await expect(page.title()).resolves.toBe(`${hostile} · service health`);
    await expect(page.locator('tr.endpoint td.name').innerText()).resolves.toBe(HOSTILE_SPAN.toLowerCase());
    await expect(page.locator('img, script, foreignObject, iframe').count()).resolves.toBe(0);
    // the only svg elements are our charts
    await expect(page.locator('svg:not(.chart)').count()).resolves.toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'health-hostile.png'), fullPage: true });
    expect(dialogs).toEqual([]);
  });
});
