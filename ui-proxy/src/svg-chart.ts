/**
 * Time-series line charts as inline SVG, drawn on the server: the health page needs a few lines
 * over a fixed grid of steps, which is less code than serving and keeping a chart library and
 * needs no script in the browser (the page's CSP allows none).
 *
 * One chart: a y axis from 0 to a rounded maximum with three grid lines, the first and last step
 * times under the x axis, one `<path class="series">` per series (a missing value breaks the
 * line; a lone value is a dot and a circle), and one transparent column per step whose `<title>` is the
 * tooltip with every series' value at that step.
 */
import { html, type Html } from './html.js';

export interface ChartSeries {
  label: string;
  /** A CSS colour (ours, never data). */
  color: string;
  /** One value per timestamp; null where the step has none. */
  values: ReadonlyArray<number | null>;
}

export interface TimeChart {
  title: string;
  /** Step start times, epoch ms, ascending. */
  timestamps: readonly number[];
  stepMs: number;
  series: readonly ChartSeries[];
  /** Axis and tooltip text of a value, e.g. "12.5 ms". */
  format: (value: number) => string;
  width?: number;
  height?: number;
}

const PAD = { left: 64, right: 12, top: 26, bottom: 22 };

/** The smallest of 1, 2, 2.5, 5 × 10^k that is >= v (1 for v <= 0). */
export function niceCeil(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * magnitude >= v * (1 - 1e-9)) return m * magnitude;
  return 10 * magnitude;
}

/** HH:MM (HH:MM:SS for steps under a minute) in UTC, the zone the page states. */
export function clock(ms: number, stepMs: number): string {
  const iso = new Date(ms).toISOString();
  return stepMs < 60_000 ? iso.slice(11, 19) : iso.slice(11, 16);
}

const num = (n: number): string => (Math.round(n * 10) / 10).toString();

/** The path of one series: `M x y L x y ...`, a new `M` after each gap; a lone point is a zero-length line (a dot). */
function pathOf(values: ReadonlyArray<number | null>, x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  let open = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      open = false;
      continue;
    }
    const next = values[i + 1];
    const alone = !open && (next === null || next === undefined);
    d += `${open ? 'L' : 'M'}${num(x(i))} ${num(y(v))}${alone ? ' l0 0' : ''} `;
    open = true;
  }
  return d.trim();
}

export function timeChart(chart: TimeChart): Html {
  const width = chart.width ?? 560;
  const height = chart.height ?? 200;
  const n = chart.timestamps.length;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  let max = 0;
  for (const s of chart.series) for (const v of s.values) if (v !== null && v > max) max = v;
  const top = niceCeil(max);
  const colW = plotW / Math.max(1, n);
  const x = (i: number): number => PAD.left + colW * (i + 0.5);
  const y = (v: number): number => PAD.top + plotH * (1 - v / top);
  const grid = [0, 0.5, 1].map(
    (f) =>
      html`<line class="grid" x1="${PAD.left}" x2="${width - PAD.right}" y1="${num(y(top * f))}" y2="${num(y(top * f))}"/><text class="axis" x="${PAD.left - 6}" y="${num(y(top * f) + 4)}" text-anchor="end">${chart.format(top * f)}</text>`,
  );
  const times =
    n === 0
      ? []
      : [
          html`<text class="axis" x="${PAD.left}" y="${height - 6}">${clock(chart.timestamps[0]!, chart.stepMs)}</text>`,
          html`<text class="axis" x="${width - PAD.right}" y="${height - 6}" text-anchor="end">${clock(chart.timestamps[n - 1]! + chart.stepMs, chart.stepMs)} UTC</text>`,
        ];
  const present = (v: number | null | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v);
  const lines = chart.series.map((s) => {
    // a value with no neighbour would be a 2 px dot: a circle makes it visible
    const dots = s.values.flatMap((v, i) =>
      present(v) && !present(s.values[i - 1]) && !present(s.values[i + 1])
        ? [html`<circle cx="${num(x(i))}" cy="${num(y(v))}" r="2.5" fill="${s.color}"/>`]
        : [],
    );
    return html`<path class="series" data-series="${s.label}" d="${pathOf(s.values, x, y)}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>${dots}`;
  });
  const legend = chart.series.map(
    (s, i) =>
      html`<text class="legend" x="${width - PAD.right - (chart.series.length - 1 - i) * 64}" y="14" text-anchor="end" fill="${s.color}">${s.label}</text>`,
  );
  const tips = chart.timestamps.map((t, i) => {
    const values = chart.series.map((s) => `${s.label} ${s.values[i] === null || s.values[i] === undefined ? '–' : chart.format(s.values[i]!)}`).join(', ');
    return html`<rect class="tip" x="${num(PAD.left + colW * i)}" y="${PAD.top}" width="${num(colW)}" height="${plotH}"><title>${clock(t, chart.stepMs)}: ${values}</title></rect>`;
  });
  return html`<svg class="chart" role="img" aria-label="${chart.title}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"><text class="title" x="${PAD.left}" y="14">${chart.title}</text>${grid}${times}${lines}${legend}${tips}</svg>`;
}
