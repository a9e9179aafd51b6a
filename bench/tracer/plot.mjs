/** A small dependency-free SVG of bench/tracer's results: one horizontal bar panel per metric. */
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const COLORS = ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6'];

function panel(y, title, unit, bars, width) {
  const rowH = 22;
  const labelW = 230;
  const plotW = width - labelW - 90;
  const max = Math.max(...bars.map((b) => b.value)) || 1;
  const out = [`<text x="10" y="${y + 16}" font-weight="bold" font-size="14">${esc(title)}</text>`];
  bars.forEach((b, i) => {
    const top = y + 26 + i * rowH;
    const w = Math.max(1, (plotW * b.value) / max);
    out.push(`<text x="${labelW - 8}" y="${top + 15}" text-anchor="end">${esc(b.label)}</text>`);
    out.push(`<rect x="${labelW}" y="${top + 3}" width="${w}" height="${rowH - 6}" fill="${COLORS[i % COLORS.length]}"/>`);
    out.push(`<text x="${labelW + w + 6}" y="${top + 15}">${esc(`${b.value} ${unit}`)}</text>`);
  });
  return { svg: out.join(''), height: 36 + bars.length * rowH };
}

/** Short enough for the label column. */
function httpLabel(sampling) {
  if (sampling === 'als only') return 'no tracer, AsyncLocalStorage only';
  if (sampling.startsWith('bound')) return 'bound: ALS + 1 constant line';
  if (sampling.startsWith('floor')) return 'floor: ALS + 1 span, no http';
  if (sampling.startsWith('OTel')) return 'OTel SDK + its http instr., 100 %';
  return /^\d/.test(sampling) ? `tracing ${sampling}` : sampling;
}

/** results: the object bench/tracer/run.mjs writes to results.json. */
export function renderChart(results, width = 820) {
  const panels = [
    ['Sampled span: CPU µs per span (start, 1 attribute, end, export)', 'µs', results.spanCost.sampled.map((r) => ({ label: r.tracer, value: r.cpuUs }))],
    ['Unsampled root span: CPU µs per span', 'µs', results.spanCost.unsampled.map((r) => ({ label: r.tracer, value: r.cpuUs }))],
    [
      `HTTP server throughput, Node ${results.versions?.node ?? ''} (${results.httpLoadGenerator ?? 'autocannon, 50 connections'})`,
      'req/s',
      results.http.map((r) => ({ label: httpLabel(r.sampling), value: r.reqPerSec })),
    ],
  ];
  const other = results.httpOtherNode;
  if (other)
    panels.push([
      `HTTP server throughput, Node ${other.node}, same run`,
      'req/s',
      other.http.map((r) => ({ label: httpLabel(r.sampling), value: r.reqPerSec })),
    ]);
  return frame(`bench/tracer, ${results.date}, ${results.machine}`, panels, width);
}

/** One panel of bars (`bars`: label and value) under a caption, as its own SVG. */
export function renderBars(caption, title, unit, bars, width = 820) {
  return frame(caption, [[title, unit, bars]], width);
}

function frame(caption, panels, width) {
  let y = 30;
  const parts = [];
  for (const [title, unit, bars] of panels) {
    const p = panel(y, title, unit, bars, width);
    parts.push(p.svg);
    y += p.height + 14;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="11" fill="#555">${esc(caption)}</text>`,
    ...parts,
    '</svg>',
  ].join('\n');
}
