/**
 * A dependency-free grouped bar chart as SVG, so every benchmark can ship its picture beside its
 * numbers and anyone can regenerate both with one command.
 *
 *   barChart({ title, unit, groups: [{ label, bars: [{ label, value }] }] }) → SVG string
 */
const palette = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#64748b'];

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v) ?? 10 * p;
}

export function barChart({ title, unit, groups, width = 760, height = 360 }) {
  const seriesNames = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.label)))];
  const max = niceMax(Math.max(...groups.flatMap((g) => g.bars.map((b) => b.value))));
  const left = 70;
  const top = 40;
  const bottom = 60;
  const plotW = width - left - 20;
  const plotH = height - top - bottom;
  const groupW = plotW / groups.length;
  const barW = Math.min(48, (groupW * 0.8) / seriesNames.length);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = top + plotH - (plotH * i) / 4;
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${esc(v >= 1000 ? `${(v / 1000).toFixed(v % 1000 ? 1 : 0)}k` : +v.toFixed(2))}</text>`);
  }
  out.push(`<text x="16" y="${top + plotH / 2}" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle">${esc(unit)}</text>`);
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + (groupW - barW * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      const h = (plotH * b.value) / max;
      const x = x0 + bi * barW;
      const color = palette[seriesNames.indexOf(b.label) % palette.length];
      out.push(
        `<rect x="${x}" y="${top + plotH - h}" width="${barW - 4}" height="${h}" fill="${color}"><title>${esc(`${b.label}: ${b.value}`)}</title></rect>`,
      );
      out.push(
        `<text x="${x + (barW - 4) / 2}" y="${top + plotH - h - 4}" text-anchor="middle" font-size="10">${esc(Math.round(b.value).toLocaleString('en'))}</text>`,
      );
    });
    out.push(`<text x="${left + gi * groupW + groupW / 2}" y="${top + plotH + 18}" text-anchor="middle">${esc(g.label)}</text>`);
  });
  seriesNames.forEach((name, i) => {
    const x = left + i * 170;
    const y = height - 18;
    out.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${palette[i % palette.length]}"/>`);
    out.push(`<text x="${x + 16}" y="${y}">${esc(name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
