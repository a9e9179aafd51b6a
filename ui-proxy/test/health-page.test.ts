import { describe, expect, it } from 'vitest';
import { RED_BUCKET_BOUNDS_US, type RedStep } from '@pintrace/storage';
import { bucketFloor, duration, HealthPage, stepFor } from '../src/health-page.js';
import { escapeHtml, html } from '../src/html.js';
import { niceCeil, timeChart } from '../src/svg-chart.js';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const empty = () => new Array<number>(RED_BUCKET_BOUNDS_US.length + 1).fill(0);

function steps(q: { endTs: number; lookback: number; stepMs: number }, fill: (i: number) => Partial<RedStep>): RedStep[] {
  const n = Math.ceil(q.lookback / q.stepMs);
  return Array.from({ length: n }, (_, i) => ({ timestamp: q.endTs - (n - i) * q.stepMs, calls: 0, errors: 0, buckets: empty(), ...fill(i) }));
}

/** A store whose services each have `names` span names with 10 calls, 1 error, all in bucket 5 ((2.5, 5] ms), in every other step. */
function fakeStore(services: string[], names: string[]) {
  const asked: unknown[] = [];
  const fill = (i: number) => (i % 2 === 0 ? { calls: 10, errors: 1, buckets: Object.assign(empty(), { 5: 10 }) } : {});
  return {
    asked,
    store: {
      serviceNames: async (q: unknown) => (asked.push(['serviceNames', q]), services),
      query: async (q: { serviceName: string; endTs: number; lookback: number; stepMs: number }) => (asked.push(['query', q]), steps(q, fill)),
      queryService: async (q: { serviceName: string; endTs: number; lookback: number; stepMs: number }) => {
        asked.push(['queryService', q]);
        if (!services.includes(q.serviceName)) return { steps: steps(q, () => ({})), bySpanName: new Map<string, RedStep>() };
        const each = steps(q, fill);
        const total = (list: RedStep[]): RedStep => ({
          timestamp: q.endTs - q.lookback,
          calls: list.reduce((n, x) => n + x.calls, 0),
          errors: list.reduce((n, x) => n + x.errors, 0),
          buckets: list.reduce((b, x) => b.map((v, i) => v + x.buckets[i]!), empty()),
        });
        return {
          steps: each.map((x) => ({ ...x, calls: x.calls * names.length, errors: x.errors * names.length, buckets: x.buckets.map((v) => v * names.length) })),
          bySpanName: new Map(names.map((n) => [n, total(each)])),
        };
      },
    },
  };
}

const hostile = ['<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>', "a'b&c</title><script>alert(2)</script>"];

/**
 * Every tag of the page, read strictly: escaped text holds no `<`, so each `<` opens a tag of ours,
 * which must be `<name attr="value" ...>` with values free of `<`, `>` and `"`. Returns the tag
 * and attribute names; throws on anything else (markup that data broke open).
 */
function tagsOf(page: string): { tags: Set<string>; attributes: Set<string> } {
  const tags = new Set<string>();
  const attributes = new Set<string>();
  for (const m of page.replace('<!DOCTYPE html>', '').matchAll(/<[^>]*>/g)) {
    const tag = /^<\/?([a-z][a-z0-9]*)((?:\s+[a-zA-Z][a-zA-Z0-9-]*(?:="[^"<>]*")?)*)\s*\/?>$/.exec(m[0]);
    if (tag === null) throw new Error(`not a tag of ours: ${m[0]}`);
    tags.add(tag[1]!);
    for (const a of tag[2]!.matchAll(/\s+([a-zA-Z][a-zA-Z0-9-]*)(?:="[^"<>]*")?/g)) attributes.add(a[1]!.toLowerCase());
  }
  return { tags, attributes };
}
const OUR_TAGS = [
  'html',
  'head',
  'meta',
  'title',
  'style',
  'body',
  'nav',
  'a',
  'span',
  'b',
  'p',
  'h1',
  'h2',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'svg',
  'text',
  'line',
  'path',
  'rect',
  'circle',
  'div',
  'code',
];

describe('html tag', () => {
  it('escapes every interpolated value, arrays included, and keeps Html values as they are', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${'"x"'}">${inner}${['<', 1, null, undefined]}</p>`.text).toBe('<p title="&quot;x&quot;"><b>&lt;i&gt;</b>&lt;1</p>');
  });
});

describe('svg chart', () => {
  it('rounds the axis up to 1/2/2.5/5 × 10^k', () => {
    expect([0, 0.7, 1, 3, 7.5, 42, 250, 251].map(niceCeil)).toEqual([1, 1, 1, 5, 10, 50, 250, 500]);
  });

  it('draws one path per series with a gap where a value is missing and a dot for a lone value', () => {
    const svg = timeChart({
      title: 'x',
      timestamps: [0, 1000, 2000, 3000, 4000],
      stepMs: 1000,
      series: [{ label: 's', color: '#000', values: [1, 2, null, 4, null] }],
      format: String,
      width: 100,
      height: 60,
    }).text;
    const d = /<path class="series" data-series="s" d="([^"]*)"/.exec(svg)![1]!;
    expect(d.match(/M/g)).toHaveLength(2);
    expect(d).toMatch(/^M\S+ \S+ L\S+ \S+ M\S+ \S+ l0 0$/);
    expect(svg.match(/<rect class="tip"/g)).toHaveLength(5);
    expect(svg.match(/<circle /g)).toHaveLength(1);
  });
});

describe('health page', () => {
  it('picks a step of at most 120 points and draws each service with its rate, errors and p99', async () => {
    expect([300_000, 900_000, 3_600_000, 21_600_000, 86_400_000].map(stepFor)).toEqual([5_000, 10_000, 30_000, 300_000, 1_800_000]);
    const { store, asked } = fakeStore(['front', 'back'], ['get /a']);
    const page = new HealthPage({ store, basePath: '/zipkin', maxLookback: 86_400_000, now: () => NOW + 1 });
    const reply = await page.render(new URLSearchParams('lookback=900000'));
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
    // the range ends at now rounded up to a step
    expect(asked[0]).toEqual(['serviceNames', { endTs: NOW + 10_000, lookback: 900_000, stepMs: 10_000 }]);
    const body = String(reply.body);
    for (const svc of ['front', 'back']) {
      expect(body).toContain(`<a href="/zipkin/pintrace/health?serviceName=${svc}&amp;lookback=900000">${svc}</a>`);
    }
    expect(body.match(/<svg class="chart"/g)).toHaveLength(6);
    expect(body.match(/<path class="series" [^>]*d="M/g)).toHaveLength(6);
    // 45 steps with 10 calls of 90 in 900 s: 0.5/s; 10 % errors; p99 in (2.5, 5] ms
    expect(body).toMatch(/<td class="num">0\.5\/s<\/td><td class="num">10 %<\/td><td class="num">4\.\d+ ms<\/td>/);
  });

  it("rows per endpoint link to the Zipkin UI's search for the slowest and the failing traces of it", async () => {
    const { store } = fakeStore(['front'], ['get /b', 'get /a']);
    const page = new HealthPage({ store, basePath: '/tools/tracing', maxLookback: 86_400_000, now: () => NOW });
    const body = String((await page.render(new URLSearchParams('serviceName=Front&lookback=3600000'))).body);
    expect(body).toContain('<h1>front</h1>');
    expect(body.match(/<tr class="endpoint"/g)).toHaveLength(2);
    expect(body.match(/<path class="series" data-series="p(50|90|99)"/g)).toHaveLength(3);
    const hrefs = [...body.matchAll(/<a class="(slowest|failing)" href="([^"]*)"/g)].map((m) => [m[1], new URL(m[2]!.replaceAll('&amp;', '&'), 'http://h')]);
    expect(hrefs).toHaveLength(4);
    for (const [kind, url] of hrefs as Array<[string, URL]>) {
      expect(url.pathname).toBe('/tools/tracing/');
      expect(url.searchParams.get('serviceName')).toBe('front');
      expect(['get /a', 'get /b']).toContain(url.searchParams.get('spanName'));
      expect(Object.fromEntries(['lookback', 'millis', 'endTs', 'limit'].map((k) => [k, url.searchParams.get(k)]))).toEqual({
        lookback: 'millis',
        millis: '3600000',
        endTs: String(NOW),
        limit: '10',
      });
      if (kind === 'slowest') {
        // p99 in (2.5, 5] ms: traces from its lower bound up
        expect(url.searchParams.get('minDuration')).toBe('2500');
        expect(url.searchParams.has('annotationQuery')).toBe(false);
      } else {
        expect(url.searchParams.get('annotationQuery')).toBe('error');
        expect(url.searchParams.has('minDuration')).toBe(false);
      }
    }
  });

  it('escapes hostile service and span names everywhere: no markup of theirs reaches the page', async () => {
    const { store } = fakeStore(hostile, hostile);
    const page = new HealthPage({ store, basePath: '/zipkin', maxLookback: 86_400_000, now: () => NOW });
    const pages = [String((await page.render(new URLSearchParams())).body)];
    for (const svc of hostile) pages.push(String((await page.render(new URLSearchParams({ serviceName: svc }))).body));
    for (const body of pages) {
      const { tags, attributes } = tagsOf(body);
      expect([...tags].filter((t) => !OUR_TAGS.includes(t))).toEqual([]);
      expect([...attributes].filter((a) => a.startsWith('on'))).toEqual([]);
      expect(body).not.toContain('<script');
    }
    expect(pages[0]).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(pages[3]).toContain('<h1>a&#39;b&amp;c&lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;</h1>');
    expect(pages[3]).toContain('<title>a&#39;b&amp;c&lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt; · service health</title>');
  });

  it('says where windows come from when the range has none', async () => {
    const { store } = fakeStore([], []);
    const page = new HealthPage({ store, basePath: '', maxLookback: 86_400_000, now: () => NOW });
    expect(String((await page.render(new URLSearchParams())).body)).toContain('--red-window-ms');
    expect(String((await page.render(new URLSearchParams('serviceName=x'))).body)).toContain('--red-window-ms');
  });

  it('formats durations and finds the bucket floor of a percentile', () => {
    expect([750, 1_500, 12_345, 250_000, 2_500_000].map(duration)).toEqual(['750 µs', '1.5 ms', '12.3 ms', '250 ms', '2.5 s']);
    expect([50, 100, 101, 4_999, 66_500, 99_000_000].map(bucketFloor)).toEqual([0, 0, 100, 2_500, 50_000, 60_000_000]);
  });
});
