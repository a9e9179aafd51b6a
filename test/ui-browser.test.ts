/**
 * The Zipkin UI (Lens 3.6.1, extracted from zipkin-server's exec jar) served by the ui-proxy under
 * a non-default base path and behind basic auth, driven in a real Debian chromium by
 * playwright-core: the search page lists the services and finds traces, a trace opens with its
 * spans, the dependency page draws the graph. Screenshots go to test/artifacts/ui-*.png.
 * Run alone: npx vitest run --project integration test/ui-browser.test.ts
 */
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UiProxy } from '@pintrace/ui-proxy';
import { ARTIFACTS, launchChromium } from './support/browser.js';
import { randomDataset, startTestProxy, writeDataset, type Dataset } from './ui-fixtures.js';

const BASE_PATH = '/tools/tracing';
const tag = `ub${Date.now().toString(36)}`;

let data: Dataset;
let proxy: UiProxy;
let ctx: BrowserContext;
let page: Page;
let base: string;
const apiCalls: string[] = [];

beforeAll(async () => {
  // Within the UI's default 15-minute lookback.
  data = randomDataset(tag, 12, Date.now() % 1_000_000, 10 * 60_000);
  await writeDataset(data);
  proxy = await startTestProxy({ basePath: BASE_PATH, users: 'viewer:pa55word' });
  base = `http://127.0.0.1:${proxy.port}${BASE_PATH}`;
  ctx = await launchChromium({ httpCredentials: { username: 'viewer', password: 'pa55word' } });
  page = await ctx.newPage();
  page.on('request', (r) => {
    if (r.url().includes('/api/v2/')) apiCalls.push(new URL(r.url()).pathname);
  });
}, 120_000);

afterAll(async () => {
  await ctx?.close();
  await proxy?.shutdown();
});

describe('Zipkin UI in chromium, under a custom base path with basic auth', () => {
  it('the search page lists the services and finds the traces of one', async () => {
    await page.goto(`${base}/`);
    await page.getByTestId('add-button').click();
    await page.keyboard.type('serviceName');
    await page.keyboard.press('Enter');
    const gateway = data.services[0]!;
    const option = page.locator('li', { hasText: gateway }).first();
    await option.waitFor({ timeout: 20_000 });
    const listed = await page.locator('li').allInnerTexts();
    for (const svc of data.services.slice(0, 3)) expect(listed).toContain(svc);
    await page.screenshot({ path: path.join(ARTIFACTS, 'ui-services.png') });
    await option.click();
    await page.getByRole('button', { name: /run query/i }).click();
    const rows = page.getByText(new RegExp(`^${gateway}: `));
    await rows.first().waitFor({ timeout: 20_000 });
    // Lens asks for its configured queryLimit (10) traces.
    expect(await rows.count()).toBe(Math.min(10, data.traces.length - data.untimed.length));
    await page.screenshot({ path: path.join(ARTIFACTS, 'ui-search.png') });
    expect(apiCalls).toContain(`${BASE_PATH}/api/v2/services`);
    expect(apiCalls).toContain(`${BASE_PATH}/api/v2/traces`);
  });

  it('a trace opens with its spans', async () => {
    const trace = [...data.traces].sort((a, b) => b.length - a.length)[0]!;
    await page.goto(`${base}/traces/${trace[0]!.traceId}`);
    await page.getByText('Total Spans').waitFor({ timeout: 20_000 });
    const body = await page.locator('body').innerText();
    expect(body).toContain(trace[0]!.traceId);
    // Lens merges a shared client/server pair into one row: one row per span id.
    expect(body).toMatch(new RegExp(`Total Spans\\s+${new Set(trace.map((s) => s.id)).size}\\b`));
    for (const span of trace) {
      expect(body).toContain(span.name!);
      expect(body).toContain(span.localEndpoint!.serviceName!);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'ui-trace.png') });
  });

  it('the dependency page draws the graph of the services', async () => {
    await page.goto(`${base}/dependency`);
    const answer = page.waitForResponse((r) => r.url().includes('/api/v2/dependencies'));
    await page.getByRole('button', { name: /run query/i }).click();
    const links = (await (await answer).json()) as Array<{ parent: string; child: string }>;
    const ours = links
      .filter((l) => l.parent.startsWith(`${tag}-`))
      .map((l) => `${l.parent}>${l.child}`)
      .sort();
    expect(ours).toEqual(data.links.map((l) => `${l.parent}>${l.child}`).sort());
    // The graph is drawn on a canvas; its node filter lists the services it drew.
    await page.locator('canvas').first().waitFor({ timeout: 20_000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(ARTIFACTS, 'ui-dependencies.png') });
    await page.getByRole('combobox').first().click();
    const options = await page.getByRole('option').allInnerTexts();
    for (const svc of data.services) expect(options).toContain(svc);
    expect(apiCalls).toContain(`${BASE_PATH}/api/v2/dependencies`);
  });
});
