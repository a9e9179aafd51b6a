/**
 * The service health page, `<base>/pintrace/health`, beside the Zipkin UI and behind the same
 * authentication: RED (rate, errors, duration) from the collector's stored windows, drawn on the
 * server as SVG (svg-chart.ts) in one HTML answer with no script.
 *
 *   <base>/pintrace/health?lookback=&endTs=                 every service with windows in the range:
 *                                                           totals and small rate / errors / p99 charts
 *   <base>/pintrace/health?serviceName=&lookback=&endTs=    one service (one search): requests/s, errors/s and
 *                                                           p50/p90/p99 over time, and a row per span
 *                                                           name linking to the Zipkin UI's search for
 *                                                           its slowest and its failing traces
 *
 * lookback is one of LOOKBACKS (ms, default 1 h); the step is the smallest of STEPS that keeps the
 * charts at most MAX_POINTS wide, and the range ends at endTs (default now) rounded up to a step,
 * so windows never straddle steps. Services and span names are span data: every one goes through
 * the `html` tag (escaped), and the page's Content-Security-Policy allows no script at all.
 *
 * Zipkin UI (Lens 3.x) search links: `<base>/?serviceName=&spanName=&lookback=millis&millis=<ms>
 * &endTs=<ms>&limit=10`, plus `minDuration=<µs>` (the lower bound of the histogram bucket holding
 * the endpoint's p99, so the true slowest 1 % are all at or above it; Lens lists results longest
 * first) or `annotationQuery=error` (traces with an `error` tag); Lens runs the search on load
 * when lookback and limit are in the URL.
 */
import { RED_BUCKET_BOUNDS_US, type ElasticsearchRedWindowStore, type RedStep } from '@pintrace/storage';
import { Html, html } from './html.js';
import { redPoint } from './red-api.js';
import type { Reply } from './reply.js';
import { timeChart } from './svg-chart.js';

export interface HealthPageOptions {
  store: Pick<ElasticsearchRedWindowStore, 'serviceNames' | 'query' | 'queryService'>;
  /** The Zipkin UI's base path ("" or "/zipkin"); the page is at `<basePath>/pintrace/health`. */
  basePath: string;
  maxLookback: number;
  now?: () => number;
}

export const HEALTH_PAGE_PATH = '/pintrace/health';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
export const LOOKBACKS: ReadonlyArray<{ label: string; ms: number }> = [
  { label: '5m', ms: 5 * MINUTE },
  { label: '15m', ms: 15 * MINUTE },
  { label: '1h', ms: HOUR },
  { label: '6h', ms: 6 * HOUR },
  { label: '1d', ms: 24 * HOUR },
];
const DEFAULT_LOOKBACK = HOUR;
const STEPS = [1_000, 5_000, 10_000, 30_000, MINUTE, 5 * MINUTE, 10 * MINUTE, 30 * MINUTE, HOUR];
const MAX_POINTS = 120;
/** Services drawn on the overview (the rest are listed by name); their queries run this many at a time. */
const MAX_OVERVIEW_SERVICES = 40;
const CONCURRENCY = 4;
const LENS_LIMIT = 10;

const COLORS = { rate: '#1f6fb2', errors: '#c62828', p50: '#2e7d32', p90: '#ef8f00', p99: '#6a1b9a' };

interface Range {
  endTs: number;
  lookback: number;
  stepMs: number;
}

/** Totals over a range of steps. */
interface Totals {
  calls: number;
  errors: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export function stepFor(lookback: number): number {
  return STEPS.find((s) => lookback / s <= MAX_POINTS) ?? STEPS[STEPS.length - 1]!;
}

function rangeOf(params: URLSearchParams, now: number, maxLookback: number): Range {
  const asked = Number(params.get('lookback'));
  const lookback = Math.min(LOOKBACKS.find((l) => l.ms === asked)?.ms ?? DEFAULT_LOOKBACK, maxLookback);
  const stepMs = stepFor(lookback);
  const end = Number(params.get('endTs'));
  const endTs = Number.isSafeInteger(end) && end > lookback ? end : now;
  return { endTs: Math.ceil(endTs / stepMs) * stepMs, lookback, stepMs };
}

function totalsOf(steps: readonly RedStep[]): Totals {
  const buckets = new Array<number>(RED_BUCKET_BOUNDS_US.length + 1).fill(0);
  let calls = 0;
  let errors = 0;
  for (const s of steps) {
    calls += s.calls;
    errors += s.errors;
    s.buckets.forEach((b, i) => (buckets[i]! += b));
  }
  const total: RedStep = { timestamp: 0, calls, errors, buckets };
  const point = redPoint(total);
  return { calls: point.calls, errors: point.errors, p50: point.p50, p90: point.p90, p99: point.p99 };
}

/** Microseconds as the page shows them. */
export function duration(us: number): string {
  if (us >= 1_000_000) return `${round(us / 1_000_000)} s`;
  if (us >= 1_000) return `${round(us / 1_000)} ms`;
  return `${round(us)} µs`;
}

function round(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1).replace(/\.0$/, '') : v.toFixed(2).replace(/\.?0+$/, '');
}

const rate = (v: number): string => (v > 0 && v < 0.01 ? '< 0.01/s' : `${round(v)}/s`);
const percent = (errors: number, calls: number): string => (calls > 0 ? `${round((100 * errors) / calls)} %` : '–');
const orDash = (us: number | null): string => (us === null ? '–' : duration(us));

/** The lower bound of the histogram bucket holding `us` (0 in the first bucket). */
export function bucketFloor(us: number): number {
  let lower = 0;
  for (const bound of RED_BUCKET_BOUNDS_US) {
    if (us <= bound) return lower;
    lower = bound;
  }
  return lower;
}

export class HealthPage {
  private readonly options: HealthPageOptions;
  private readonly now: () => number;

  constructor(options: HealthPageOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  get path(): string {
    return `${this.options.basePath}${HEALTH_PAGE_PATH}`;
  }

  async render(params: URLSearchParams): Promise<Reply> {
    const range = rangeOf(params, this.now(), this.options.maxLookback);
    const serviceName = params.get('serviceName')?.trim().toLowerCase() ?? '';
    const body = serviceName === '' ? await this.overview(range) : await this.service(serviceName, range);
    const title = serviceName === '' ? 'Service health' : `${serviceName} · service health`;
    return {
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'",
        'referrer-policy': 'same-origin',
      },
      body: page(title, this.nav(serviceName, range), body).text,
    };
  }

  private pageUrl(query: Record<string, string | number>): string {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
    return `${this.path}?${qs}`;
  }

  private lensUrl(query: Record<string, string>): string {
    return `${this.options.basePath}/?${new URLSearchParams(query)}`;
  }

  private nav(serviceName: string, range: Range): Html {
    const lookbacks = LOOKBACKS.filter((l) => l.ms <= this.options.maxLookback).map((l) => {
      const query = { ...(serviceName !== '' ? { serviceName } : {}), lookback: l.ms };
      return l.ms === range.lookback ? html`<b>${l.label}</b>` : html`<a href="${this.pageUrl(query)}">${l.label}</a>`;
    });
    return html`<nav><a href="${this.options.basePath}/">Zipkin UI</a> · <a href="${this.path}">All services</a><span class="lookback">last ${lookbacks}</span></nav>
<p class="range">${new Date(range.endTs - range.lookback).toISOString()} – ${new Date(range.endTs).toISOString()}, steps of ${range.stepMs / 1000} s. Calls and errors are scaled by each trace's sampling rate.</p>`;
  }

  private async overview(range: Range): Promise<Html> {
    const names = await this.options.store.serviceNames(range);
    if (names.length === 0) return noData();
    const drawn = names.slice(0, MAX_OVERVIEW_SERVICES);
    const series = await mapLimit(drawn, CONCURRENCY, (serviceName) => this.options.store.query({ serviceName, ...range }));
    const rows = drawn.map((name, i) => {
      const steps = series[i]!;
      const t = totalsOf(steps);
      const link = this.pageUrl({ serviceName: name, lookback: range.lookback });
      return html`<tr class="service" data-service="${name}"><td class="name"><a href="${link}">${name}</a></td><td class="num">${rate(t.calls / (range.lookback / 1000))}</td><td class="num">${percent(t.errors, t.calls)}</td><td class="num">${orDash(t.p99)}</td><td>${charts(steps, range, 'small')}</td></tr>`;
    });
    const rest = names
      .slice(MAX_OVERVIEW_SERVICES)
      .map((name) => html` <a href="${this.pageUrl({ serviceName: name, lookback: range.lookback })}">${name}</a>`);
    return html`<h1>Service health</h1>
<table class="services"><thead><tr><th>service</th><th>requests</th><th>errors</th><th>p99</th><th>requests/s · errors/s · latency</th></tr></thead><tbody>${rows}</tbody></table>${rest.length > 0 ? html`<p class="more">Also: ${rest}</p>` : ''}`;
  }

  private async service(serviceName: string, range: Range): Promise<Html> {
    const { steps: all, bySpanName: byName } = await this.options.store.queryService({ serviceName, ...range });
    if (byName.size === 0) return html`<h1>${serviceName}</h1>${noData()}`;
    const t = totalsOf(all);
    const seconds = range.lookback / 1000;
    const endpoints = [...byName.entries()]
      .map(([name, total]) => ({ name, totals: totalsOf([total]) }))
      .sort((a, b) => b.totals.calls - a.totals.calls || (a.name < b.name ? -1 : 1));
    const lensRange = { lookback: 'millis', millis: String(range.lookback), endTs: String(range.endTs), limit: String(LENS_LIMIT) };
    const rows = endpoints.map(({ name, totals: e }) => {
      const slowest: Record<string, string> = { serviceName, spanName: name };
      const floor = e.p99 === null ? 0 : bucketFloor(e.p99);
      if (floor > 0) slowest.minDuration = String(floor);
      const slow = this.lensUrl({ ...slowest, ...lensRange });
      const failing = this.lensUrl({ serviceName, spanName: name, annotationQuery: 'error', ...lensRange });
      return html`<tr class="endpoint" data-span-name="${name}"><td class="name">${name}</td><td class="num">${rate(e.calls / seconds)}</td><td class="num">${round(e.calls)}</td><td class="num">${round(e.errors)}</td><td class="num">${percent(e.errors, e.calls)}</td><td class="num">${orDash(e.p50)}</td><td class="num">${orDash(e.p90)}</td><td class="num">${orDash(e.p99)}</td><td><a class="slowest" href="${slow}">slowest${floor > 0 ? html` (≥ ${duration(floor)})` : ''}</a> · <a class="failing" href="${failing}">failing</a></td></tr>`;
    });
    return html`<h1>${serviceName}</h1>
<p class="summary">${rate(t.calls / seconds)} · ${round(t.calls)} requests · ${round(t.errors)} errors (${percent(t.errors, t.calls)}) · p50 ${orDash(t.p50)} · p90 ${orDash(t.p90)} · p99 ${orDash(t.p99)}</p>
<div class="charts">${charts(all, range, 'large')}</div>
<h2>Endpoints</h2>
<table class="endpoints"><thead><tr><th>span name</th><th>requests/s</th><th>requests</th><th>errors</th><th>error rate</th><th>p50</th><th>p90</th><th>p99</th><th>traces in the Zipkin UI</th></tr></thead><tbody>${rows}</tbody></table>`;
  }
}

function charts(steps: readonly RedStep[], range: Range, size: 'small' | 'large'): Html {
  const points = steps.map(redPoint);
  const perSecond = 1000 / range.stepMs;
  const timestamps = points.map((p) => p.timestamp);
  const dims = size === 'small' ? { width: 260, height: 90 } : { width: 420, height: 200 };
  const common = { timestamps, stepMs: range.stepMs, ...dims };
  const ms = (us: number | null) => (us === null ? null : us / 1000);
  return html`${timeChart({
    ...common,
    title: 'requests/s',
    series: [{ label: 'calls', color: COLORS.rate, values: points.map((p) => p.calls * perSecond) }],
    format: (v) => round(v),
  })}${timeChart({
    ...common,
    title: 'errors/s',
    series: [{ label: 'errors', color: COLORS.errors, values: points.map((p) => p.errors * perSecond) }],
    format: (v) => round(v),
  })}${timeChart({
    ...common,
    title: 'latency (ms)',
    series:
      size === 'small'
        ? [{ label: 'p99', color: COLORS.p99, values: points.map((p) => ms(p.p99)) }]
        : [
            { label: 'p50', color: COLORS.p50, values: points.map((p) => ms(p.p50)) },
            { label: 'p90', color: COLORS.p90, values: points.map((p) => ms(p.p90)) },
            { label: 'p99', color: COLORS.p99, values: points.map((p) => ms(p.p99)) },
          ],
    format: (v) => round(v),
  })}`;
}

function noData(): Html {
  return html`<p class="empty">No RED windows in this range. They are written by collectors started with <code>--red-window-ms</code> (e.g. 10000) into the same store and index prefix.</p>`;
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Our own constant CSS: not data, so it goes in as Html. */
const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:0 24px 24px;color:#222}
nav{padding:12px 0;border-bottom:1px solid #ddd;margin-bottom:8px}nav a{color:#1f6fb2}
.lookback{float:right}.lookback a,.lookback b{margin-left:8px}
.range{color:#666;font-size:12px}h1{font-size:20px;margin:12px 0 4px}h2{font-size:16px}
table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:middle}
th{font-weight:600;color:#555;font-size:12px}.num{text-align:right;white-space:nowrap}.name{word-break:break-all;max-width:320px}
.charts svg{margin:0 12px 12px 0}.chart{background:#fafafa;border:1px solid #eee}
.chart .grid{stroke:#e3e3e3}.chart .axis{font-size:10px;fill:#777}.chart .title{font-size:11px;font-weight:600;fill:#444}
.chart .legend{font-size:10px;font-weight:600}.chart .tip{fill:#000;fill-opacity:0}.chart .tip:hover{fill-opacity:.06}
.empty{padding:24px;background:#fff8e1;border:1px solid #f0e0a0}`;

function page(title: string, nav: Html, body: Html): Html {
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>${new Html(STYLE)}</style></head>
<body>${nav}${body}</body></html>`;
}
