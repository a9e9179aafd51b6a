/**
 * What a bench's results file is made of: medians, rounding, the machine and its load, and
 * ratios paired round by round.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return undefined;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const round = (v, digits = 3) => (v === undefined ? undefined : Math.round(v * 10 ** digits) / 10 ** digits);

/** Load average over 1, 5 and 15 minutes, two decimals. */
export const loadavg = () => os.loadavg().map((l) => round(l, 2));

/** The machine a run was on, as the agent and intake results record it. */
export const host = () => ({ cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGB: Math.round(os.totalmem() / 2 ** 30) });

/** The load over a run of rounds: at its start (`atStart`, a loadavg() taken then), at its end, and the range of the runs' 1-minute load. */
export const loadAverage = (atStart, rows) => ({
  atStart,
  atEnd: loadavg(),
  perRunRange: [round(Math.min(...rows.map((r) => r.loadavg)), 2), round(Math.max(...rows.map((r) => r.loadavg)), 2)],
});

/**
 * `b` over `a` round by round, for the rows of both (`roundKey` numbers the round): the two runs
 * of a round are close in time, so their ratio carries less of the machine's drift than the
 * ratio of the medians. `rate` and `cpu` name the rows' rate and CPU-per-item fields.
 */
export function pairedRatios(rows, isA, isB, { roundKey = 'round', rate, cpu }) {
  const paired = [];
  for (const a of rows.filter(isA)) {
    const b = rows.find((x) => isB(x) && x[roundKey] === a[roundKey]);
    if (b) paired.push({ rate: b[rate] / a[rate], cpu: b[cpu] / a[cpu] });
  }
  return {
    pairedSpansPerSecRatioMedian: round(median(paired.map((p) => p.rate))),
    pairedCpuPerSpanRatioMedian: round(median(paired.map((p) => p.cpu))),
    pairedSpansPerSecRatios: paired.map((p) => round(p.rate)),
  };
}

/** Writes `value` as the bench's results file `name` in `dir`: two-space JSON and a final newline. */
export function writeResults(dir, name, value) {
  writeFileSync(path.join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
}
