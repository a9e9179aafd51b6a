/**
 * Two servers of the HTTP throughput bench (http-server.mjs, same modes) at the same time: both
 * pinned to CPU 0, each loaded by its own wrk (1 thread, 50 connections) on CPU 1. The kernel
 * shares CPU 0 between the two busy servers, so a round compares them under the same load, where
 * the interleaved rounds of http-throughput.mjs see this host's speed move by up to 1.8× between
 * rounds. Each round starts both servers afresh (which one starts first alternates), warms both
 * up at once, then loads both at once; the ratio of a round is B's requests/s ÷ A's.
 *
 * With BENCH_PAIR_PERF=1, `perf record` samples CPU 0 (cpu-clock) inside each measured window, and
 * each server's time per request is split by where it ran: our JavaScript (the tracer's, sampler's
 * and model's, named through V8's perf map), Node's and the bench's JavaScript, V8's builtins
 * (which any JavaScript calls, ours too), other native code (V8, Node, libc) and the kernel. That
 * tells the cost of a tracer's own code from what its presence makes the rest of a request cost.
 * BENCH_PAIR_SYMBOLS=<n> (with BENCH_PAIR_PERF=1) also lists the n functions whose time per request
 * differs most between the two servers (medians of the rounds): a change of V8's inlining moves time
 * between functions, so read the list for what appears or grows, not for one function's figure.
 *
 *   node bench/tracer/pair.mjs <mode A> <mode B> [rounds] [seconds]   (defaults 4 and 10)
 * A mode written `<mode>@<directory>` runs that directory's copy of this repository (built), so
 * two builds of the tracer can be paired: `100@/tmp/before 100`.
 *   BENCH_PAIR_WARM=<seconds of warm-up, default 10>
 * Needs Linux, two CPUs, taskset and wrk; BENCH_PAIR_PERF also needs perf, run as root or with
 * kernel.perf_event_paranoid at 0 or below (it samples a whole CPU).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canPin, hasCommand, killAndWait, pinned } from '../lib/processes.mjs';

const [A, B] = process.argv.slice(2, 4);
const ROUNDS = Number(process.argv[4] ?? 4);
const SECONDS = Number(process.argv[5] ?? 10);
const WARM = Number(process.env.BENCH_PAIR_WARM ?? 10);
const PERF = process.env.BENCH_PAIR_PERF === '1';
/** perf's sampling rate (Hz), and the seconds it leaves unsampled at each end of a window. */
const PERF_HZ = 10_000;
const PERF_MARGIN_S = 1;
const SYMBOLS = Number(process.env.BENCH_PAIR_SYMBOLS ?? 0);
const REPO = new URL('../../', import.meta.url).pathname;
/** A mode and the repository whose server and build run it (`<mode>@<directory>`, else this one). */
function serverOf(spec) {
  const at = spec.indexOf('@');
  if (at < 0) return { mode: spec, repo: REPO };
  const repo = spec.slice(at + 1).replace(/\/?$/, '/');
  return { mode: spec.slice(0, at), repo: repo.startsWith('/') ? repo : join(process.cwd(), repo) };
}
const OWN_CODE = [...new Set([A, B].map((spec) => serverOf(spec ?? '').repo))].flatMap((repo) =>
  ['tracer', 'sampler', 'model'].map((workspace) => `${repo}${workspace}/dist/`),
);
const PARTS = ['our JavaScript', "Node's and the bench's JavaScript", "V8's builtins", 'other native (V8, Node, libc)', 'kernel'];

if (!A || !B) {
  console.error('usage: node bench/tracer/pair.mjs <mode A> <mode B> [rounds] [seconds]');
  process.exit(2);
}
if (!Number.isInteger(SYMBOLS) || SYMBOLS < 0 || (SYMBOLS > 0 && !PERF)) {
  console.error(`BENCH_PAIR_SYMBOLS must be a whole number of functions, and needs BENCH_PAIR_PERF=1 (got ${process.env.BENCH_PAIR_SYMBOLS})`);
  process.exit(2);
}
if (!(SECONDS > 2 * PERF_MARGIN_S) || !(WARM > 0)) {
  console.error(`seconds must be above ${2 * PERF_MARGIN_S} (perf leaves ${PERF_MARGIN_S} s unsampled at each end), and BENCH_PAIR_WARM above 0`);
  process.exit(2);
}
if (!canPin || !hasCommand('wrk') || (PERF && !hasCommand('perf'))) {
  console.error(`needs Linux with two CPUs, taskset and wrk${PERF ? ', and perf' : ''}`);
  process.exit(2);
}

function startServer(spec) {
  const { mode, repo } = serverOf(spec);
  const server = join(repo, 'bench/tracer/http-server.mjs');
  const child = spawn(...pinned(0, process.execPath, [...(PERF ? ['--perf-basic-prof'] : []), server, mode]), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server (${mode}) exited ${code}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        child.removeAllListeners('exit');
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({ child, url: `http://127.0.0.1:${m[1]}/` });
      }
    });
  });
}

/** Voluntary context switches (it slept waiting) of all a process's threads so far, from /proc. */
function sleepsOf(pid) {
  try {
    let sum = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      sum += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8'))[1]);
    }
    return sum;
  } catch {
    return undefined;
  }
}

/**
 * One wrk run on CPU 1: its requests/s, and how often it slept per 1,000 requests (read 0.5 s after
 * it starts and 0.5 s before it ends). On loopback a server's write runs the client's receive path
 * and wakes it, in the server's own system time, so a server that keeps its client waiting more
 * often also pays more for waking it.
 */
function load(url, seconds) {
  return new Promise((resolve, reject) => {
    const wrk = spawn(...pinned(1, 'wrk', ['-t1', '-c50', `-d${seconds}`, url]), { stdio: ['ignore', 'pipe', 'ignore'] });
    let first;
    let last;
    const early = setTimeout(() => (first = sleepsOf(wrk.pid)), 500);
    const late = setTimeout(() => (last = sleepsOf(wrk.pid)), (seconds - 0.5) * 1000);
    let out = '';
    wrk.stdout.on('data', (chunk) => (out += chunk));
    wrk.on('close', (code) => {
      clearTimeout(early);
      clearTimeout(late);
      const m = /(\d+) requests in ([\d.]+)(ms|s|m)\b/.exec(out);
      if (!m) return reject(new Error(`wrk exited ${code} without a result:\n${out}`));
      const rps = Number(m[1]) / (Number(m[2]) * { ms: 0.001, s: 1, m: 60 }[m[3]]);
      const slept = first !== undefined && last !== undefined ? ((last - first) * 1000) / (rps * (seconds - 1)) : undefined;
      resolve({ rps, slept });
    });
  });
}

/** Where a perf sample of a server ran (see PARTS), from perf report's dso and symbol. */
function partOf(dsoAndSymbol) {
  if (dsoAndSymbol.startsWith('[kernel')) return 'kernel';
  if (dsoAndSymbol.startsWith('[JIT]')) return OWN_CODE.some((dir) => dsoAndSymbol.includes(dir)) ? 'our JavaScript' : "Node's and the bench's JavaScript";
  // the builtins run for any JavaScript, ours included (property lookups, calls, Map, write barrier)
  return /\bBuiltins_/.test(dsoAndSymbol) ? "V8's builtins" : 'other native (V8, Node, libc)';
}

/** Microseconds per request of each server, by part: perf samples ÷ (rate × sampled seconds). */
function splitSamples(data, servers) {
  const report = execFileSync('perf', ['report', '-i', data, '--sort', 'pid,dso,sym', '-n', '-q'], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const split = servers.map(() => Object.fromEntries(PARTS.map((part) => [part, 0])));
  const bySymbol = servers.map(() => new Map());
  for (const line of report.split('\n')) {
    // `  12.34%  1234  5678:node  [JIT] tid 5678  [.] JS:*'traceIncoming file:///…`
    const m = /^\s*[\d.]+%\s+(\d+)\s+(\d+):\S*\s+(.*)$/.exec(line);
    if (!m) continue;
    const i = servers.findIndex((s) => s.pid === Number(m[2]));
    if (i < 0) continue;
    split[i][partOf(m[3].trim())] += Number(m[1]);
    if (SYMBOLS > 0) {
      // `[JIT] tid 5678  [.] JS:*'traceIncoming file:///…/http-server.js:62:30` → `traceIncoming http-server.js:62`
      const symbol = m[3]
        .trim()
        .replace(/\s+/g, ' ')
        .replace(/ tid \d+/, '')
        .replace(/file:\/\/\/\S*\/([^/\s]+:\d+):\d+/, '$1');
      bySymbol[i].set(symbol, (bySymbol[i].get(symbol) ?? 0) + Number(m[1]));
    }
  }
  const sampled = SECONDS - 2 * PERF_MARGIN_S;
  const perRequest = (samples, i) => (samples * 1e6) / PERF_HZ / (servers[i].rps * sampled);
  const parts = split.map((counts, i) => Object.fromEntries(PARTS.map((part) => [part, perRequest(counts[part], i)])));
  const symbols = bySymbol.map((counts, i) => new Map([...counts].map(([symbol, n]) => [symbol, perRequest(n, i)])));
  return { parts, symbols };
}

async function round(r, dir) {
  // which server starts (and so compiles) first alternates between rounds
  const order = r % 2 === 0 ? [A, B] : [B, A];
  const first = await startServer(order[0]);
  const second = await startServer(order[1]).catch(async (err) => {
    await killAndWait(first.child);
    throw err;
  });
  const [a, b] = r % 2 === 0 ? [first, second] : [second, first];
  try {
    await Promise.all([load(a.url, WARM), load(b.url, WARM)]);
    const measuring = Promise.all([load(a.url, SECONDS), load(b.url, SECONDS)]);
    let data;
    if (PERF) {
      data = join(dir, `round-${r}.data`);
      await new Promise((resolve) => setTimeout(resolve, PERF_MARGIN_S * 1000));
      const sampledSeconds = String(SECONDS - 2 * PERF_MARGIN_S);
      await promisify(execFile)('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(PERF_HZ), '-C', '0', '-o', data, '--', 'sleep', sampledSeconds]);
    }
    const [loadA, loadB] = await measuring;
    const { parts: split, symbols } = data
      ? splitSamples(data, [
          { pid: a.child.pid, rps: loadA.rps },
          { pid: b.child.pid, rps: loadB.rps },
        ])
      : {};
    return { rpsA: loadA.rps, rpsB: loadB.rps, ratio: loadB.rps / loadA.rps, sleptA: loadA.slept, sleptB: loadB.slept, split, symbols };
  } finally {
    await Promise.all([killAndWait(a.child), killAndWait(b.child)]);
    if (PERF) for (const { child } of [a, b]) rmSync(`/tmp/perf-${child.pid}.map`, { force: true });
  }
}

const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const dir = mkdtempSync(join(tmpdir(), 'bench-pair-'));
const rounds = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    process.stderr.write(`pair: round ${r + 1} of ${ROUNDS}, ${A} and ${B}, ${WARM} s warm-up and ${SECONDS} s at once…\n`);
    const result = await round(r, dir);
    rounds.push(result);
    const slept = (n) => (n === undefined ? '' : ` (wrk slept ${Math.round(n)} times per 1,000)`);
    console.log(
      `round ${r + 1}: ${A} ${Math.round(result.rpsA)} req/s${slept(result.sleptA)}, ${B} ${Math.round(result.rpsB)} req/s${slept(result.sleptB)}, ratio ${result.ratio.toFixed(3)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const ratios = rounds.map((r) => r.ratio);
console.log(`${B} ÷ ${A}: median ${median(ratios).toFixed(3)} over ${ROUNDS} rounds (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`);
if (PERF) {
  // medians per part, in µs per request, of A, of B, and of B − A round by round
  const table = PARTS.map((part) => ({
    part,
    [`A: ${A}`]: +median(rounds.map((r) => r.split[0][part])).toFixed(2),
    [`B: ${B}`]: +median(rounds.map((r) => r.split[1][part])).toFixed(2),
    'B − A': +median(rounds.map((r) => r.split[1][part] - r.split[0][part])).toFixed(2),
  }));
  const total = (s) => PARTS.reduce((sum, part) => sum + s[part], 0);
  table.push({
    part: 'all',
    [`A: ${A}`]: +median(rounds.map((r) => total(r.split[0]))).toFixed(2),
    [`B: ${B}`]: +median(rounds.map((r) => total(r.split[1]))).toFixed(2),
    'B − A': +median(rounds.map((r) => total(r.split[1]) - total(r.split[0]))).toFixed(2),
  });
  console.log('CPU 0 time per request (µs, medians of the rounds; perf record slows both servers alike)');
  console.table(table);
}
if (SYMBOLS > 0) {
  const names = new Set(rounds.flatMap((r) => [...r.symbols[0].keys(), ...r.symbols[1].keys()]));
  const at = (r, i, name) => r.symbols[i].get(name) ?? 0;
  const rows = [...names].map((name) => ({
    function: name.length > 90 ? `${name.slice(0, 89)}…` : name,
    [`A: ${A}`]: +median(rounds.map((r) => at(r, 0, name))).toFixed(3),
    [`B: ${B}`]: +median(rounds.map((r) => at(r, 1, name))).toFixed(3),
    'B − A': +median(rounds.map((r) => at(r, 1, name) - at(r, 0, name))).toFixed(3),
  }));
  rows.sort((x, y) => Math.abs(y['B − A']) - Math.abs(x['B − A']));
  console.log(`the ${SYMBOLS} functions whose time per request (µs) differs most between the two servers`);
  console.table(rows.slice(0, SYMBOLS));
}
