/**
 * Instructions per request of the HTTP throughput bench's server, counted by valgrind's callgrind:
 * a measure other load on the machine does not move, for telling apart changes of a few percent
 * that requests/s on a shared virtual machine cannot (its rounds move by more than that).
 *
 * Each configuration's server (bench/tracer/http-server.mjs, same modes) runs under callgrind with
 * counting off; this process sends the warm-up requests over 10 keep-alive connections, turns
 * counting on, sends the measured requests over the same connections, turns it off, and only then
 * closes them (closing connections deoptimises Node's stream code, which would then re-warm
 * inside the count). V8 compiles on the main thread here (--no-concurrent-recompilation), so code
 * reaches its final tier after a number of requests, not of seconds, which valgrind stretches.
 *
 * Three figures per configuration: all instructions per request; those outside the garbage
 * collector; and those outside it and outside V8's optimising compilers, which comparisons use.
 * A major collection lands in one run's window and not in another's (it cost about 3,000
 * instructions per request when it did). Code that runs on few requests (at 0.3 % sampling, the
 * sampled span's) needs a long warm-up to reach its last tier; what the compilers still do inside
 * the window is reported on its own, so a deoptimisation loop would still show.
 *
 * A fourth figure is the part of those that ran in the tracer's own JavaScript (the tracer, sampler
 * and model workspaces), with its largest functions: V8 writes where it put each compiled function
 * (--perf-basic-prof), which names the code callgrind only knows by address. A function counts with
 * what was inlined into it (Node's code inlined into ours is ours here, and ours inlined into
 * Node's is not); the builtins and native code it calls are not counted in it.
 *
 * Instructions are not time (a cache miss costs more than an add), so this says where work went
 * and whether a change removed some; requests/s (http-throughput.mjs) stays the headline.
 * With BENCH_INSTR_CACHE=1, callgrind also simulates this machine's caches (its first-level
 * instruction and data caches, and its second level as the last, with the sizes Linux reports for
 * CPU 0) and a branch predictor, and each row gets the simulated misses per request outside the GC
 * and the compilers, all and in our JavaScript: the HTTP path's code is far larger than a
 * first-level cache, so a line of code a tracer adds is likely to miss once per request.
 *
 *   node bench/tracer/instructions.mjs [warm-up requests] [measured requests]
 *   BENCH_INSTR_MODES='["als","0.3"]' to choose configurations (http-server.mjs modes).
 * Needs valgrind (Debian package `valgrind`); about a minute and a half per configuration, about
 * twice that with the caches simulated.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { renderBars } from './plot.mjs';
import { hasCommand, pinned } from '../lib/processes.mjs';

const run = promisify(execFile);
// the sampled path of a 0.3 % server runs on 0.3 % of the warm-up: after 60,000 requests it still ran
// in V8's lower tiers inside the count, as a long-running server's does not (bench/README.md)
const WARM = Number(process.argv[2] ?? 240_000);
const MEASURED = Number(process.argv[3] ?? 20_000);
const MODES = process.env.BENCH_INSTR_MODES ? JSON.parse(process.env.BENCH_INSTR_MODES) : ['off', 'als', 'line', '0.3', '100'];
const CONNECTIONS = 10;
const CACHE = process.env.BENCH_INSTR_CACHE === '1';
/** Functions of V8's optimising compilers (TurboFan, Maglev). */
const COMPILER = /v8::internal::compiler::|v8::internal::maglev::|Turbofan|Maglev/;
/** Functions of V8's garbage collector (marking, sweeping, scavenging, and their root visits). */
const GC =
  /Marking|Sweeper|Scaveng|IterateObjectCache|BodyDescriptor|SizeFromMap|StringTableCleaner|Evacuat|RelocIterator|NeedsResetDueToFlushedBytecode|MarkCompact|MinorMS|RememberedSet|SlotSet|FreeList|ArrayBufferSweeper|EphemeronHashTable|VisitRootPointer/;

/** Where the tracer's JavaScript and that of the workspaces it depends on lives. */
const REPO = new URL('../../', import.meta.url).pathname;
const OWN_CODE = ['tracer', 'sampler', 'model'].map((workspace) => `${REPO}${workspace}/dist/`);

/**
 * V8's perf map (`<hex start> <hex size> <name>` per compiled function, written by
 * --perf-basic-prof to /tmp/perf-<pid>.map) as start address → name; a later entry at an address
 * replaces an earlier one, as V8 reuses the memory of code it dropped.
 */
function readPerfMap(pid) {
  const path = `/tmp/perf-${pid}.map`;
  const names = new Map();
  if (!existsSync(path)) return names;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const first = line.indexOf(' ');
    const second = line.indexOf(' ', first + 1);
    if (second > 0) names.set(Number.parseInt(line.slice(0, first), 16), line.slice(second + 1));
  }
  rmSync(path, { force: true });
  return names;
}

/** `traceIncoming tracer/dist/http/http-server.js` from the perf map name of a function of ours, else undefined. */
function ownFunction(name) {
  if (!OWN_CODE.some((dir) => name.includes(dir))) return undefined;
  // `JS:*'traceIncoming file:///…/tracer/dist/http/http-server.js:63:30` (the mark is the tier)
  const m = /^JS:\W?'?(\S*) file:\/\/(\S+?):(\d+):\d+$/.exec(name);
  if (!m) return name;
  // an anonymous function is told apart by its line (of the built JavaScript)
  return m[1] ? `${m[1]} ${m[2].slice(REPO.length)}` : `(anonymous) ${m[2].slice(REPO.length)}:${m[3]}`;
}

/**
 * callgrind's cache options for CPU 0's first-level instruction and data caches and its second
 * level (size,associativity,line size in bytes, from sysfs); the second level stands for the last,
 * as the third is shared by all cores and large enough to hold the whole path.
 */
function cacheGeometry() {
  const base = '/sys/devices/system/cpu/cpu0/cache';
  const read = (index, key) => readFileSync(`${base}/${index}/${key}`, 'utf8').trim();
  const found = {};
  for (const index of readdirSync(base).filter((name) => name.startsWith('index'))) {
    const level = read(index, 'level');
    const type = read(index, 'type');
    const slot = level === '1' ? (type === 'Instruction' ? 'I1' : type === 'Data' ? 'D1' : undefined) : level === '2' ? 'LL' : undefined;
    if (slot === undefined) continue;
    const size = Number.parseInt(read(index, 'size'), 10) * (read(index, 'size').endsWith('M') ? 1 << 20 : 1 << 10);
    found[slot] = `--${slot}=${size},${read(index, 'ways_of_associativity')},${read(index, 'coherency_line_size')}`;
  }
  if (!found.I1 || !found.D1 || !found.LL) throw new Error(`BENCH_INSTR_CACHE: no first- and second-level caches in ${base}`);
  return ['--cache-sim=yes', '--branch-sim=yes', found.I1, found.D1, found.LL];
}

/** Simulated misses per request by kind, from callgrind's events (see {@link cacheGeometry}). */
const MISS_EVENTS = { l1i: ['I1mr'], l1d: ['D1mr', 'D1mw'], l2: ['ILmr', 'DLmr', 'DLmw'], branch: ['Bcm', 'Bim'] };

async function requests(port, agent, total) {
  let sent = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (sent < total) {
        sent++;
        await one();
      }
    }),
  );
}

async function measure(mode, dir) {
  const out = join(dir, `callgrind-${mode}.out`);
  const server = spawn(
    // the server and this process (its client) on CPUs of their own when there are two: the
    // counts do not depend on it, the run's length does
    ...pinned(0, 'valgrind', [
      '--tool=callgrind',
      ...(CACHE ? cacheGeometry() : []),
      '--instr-atstart=no',
      '--smc-check=all-non-file',
      `--callgrind-out-file=${out}`,
      process.execPath,
      '--no-concurrent-recompilation',
      '--no-concurrent-osr',
      '--perf-basic-prof',
      // V8's hash seeds fixed: string and Map hashes, and so their collisions, differ per process
      // otherwise, and two runs of one build then disagreed by up to 450 instructions, not 130
      '--hash-seed=1',
      '--random-seed=1',
      new URL('./http-server.mjs', import.meta.url).pathname,
      mode,
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  server.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const port = await new Promise((resolve, reject) => {
    let stdout = '';
    server.once('exit', (code) => reject(new Error(`server (${mode}) exited ${code}: ${stderr.slice(-500)}`)));
    server.stdout.on('data', (chunk) => {
      stdout += chunk;
      const m = /listening (\d+)/.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  await requests(port, agent, WARM);
  await run('callgrind_control', ['-i', 'on', String(server.pid)]);
  await requests(port, agent, MEASURED);
  await run('callgrind_control', ['-i', 'off', String(server.pid)]);
  agent.destroy();
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await exited;
  const annotated = execFileSync('callgrind_annotate', ['--threshold=100', out], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const compiled = readPerfMap(server.pid);
  // one column per event (Ir first, then the simulated misses when asked for), then the function
  let events;
  const zero = () => new Array(events.length).fill(0);
  const add = (into, counts) => counts.forEach((n, i) => (into[i] += n));
  let all;
  let gc;
  let compiler;
  let steady;
  const own = new Map();
  for (const line of annotated.split('\n')) {
    if (events === undefined) {
      if (/^Ir\s/.test(line) && line.includes('file:function')) {
        events = line.trim().split(/\s+/).slice(0, -1);
        [all, gc, compiler, steady] = [zero(), zero(), zero(), zero()];
      }
      continue;
    }
    if (line.includes('PROGRAM TOTALS')) continue;
    // `20,822,611 ( 2.49%)` per event, `.` or `0` where none; percentages dropped
    const fields = line
      .replace(/\(\s*[\d.]+%\)/g, '')
      .trim()
      .split(/\s+/);
    if (fields.length <= events.length || !fields.slice(0, events.length).every((f) => /^[\d,]+$|^\.$/.test(f))) continue;
    const counts = fields.slice(0, events.length).map((f) => (f === '.' ? 0 : Number(f.replaceAll(',', ''))));
    const name = fields.slice(events.length).join(' ');
    add(all, counts);
    if (GC.test(name)) add(gc, counts);
    else if (COMPILER.test(name)) add(compiler, counts);
    else {
      add(steady, counts);
      // compiled JavaScript has no symbol: callgrind names it by its start address
      const jit = /^\?\?\?:0x([0-9a-f]+)/.exec(name);
      const fn = jit ? ownFunction(compiled.get(Number.parseInt(jit[1], 16)) ?? '') : undefined;
      if (fn !== undefined) {
        if (!own.has(fn)) own.set(fn, zero());
        add(own.get(fn), counts);
      }
    }
  }
  if (events === undefined) throw new Error(`callgrind_annotate (${mode}): no event header`);
  const perRequest = (n) => Math.round(n / MEASURED);
  const ownFunctions = [...own].sort((a, b) => b[1][0] - a[1][0]);
  const ownTotal = zero();
  for (const [, counts] of ownFunctions) add(ownTotal, counts);
  // misses per request by kind, to one decimal: a few per request is what a change moves
  const misses = (counts) =>
    Object.fromEntries(
      Object.entries(MISS_EVENTS).map(([kind, names]) => [
        kind,
        Math.round((names.reduce((sum, e) => sum + counts[events.indexOf(e)], 0) * 10) / MEASURED) / 10,
      ]),
    );
  return {
    mode,
    instructionsPerRequest: perRequest(all[0]),
    nonGcInstructionsPerRequest: perRequest(all[0] - gc[0]),
    compilerInstructionsPerRequest: perRequest(compiler[0]),
    steadyInstructionsPerRequest: perRequest(steady[0]),
    ownInstructionsPerRequest: perRequest(ownTotal[0]),
    ...(CACHE ? { steadyMissesPerRequest: misses(steady), ownMissesPerRequest: misses(ownTotal) } : {}),
    ownFunctions: ownFunctions
      .filter(([, counts]) => perRequest(counts[0]) >= 5)
      .map(([name, counts]) => ({ name, instructionsPerRequest: perRequest(counts[0]), ...(CACHE ? misses(counts) : {}) })),
  };
}

if (!hasCommand('valgrind') || !hasCommand('callgrind_control') || !hasCommand('callgrind_annotate')) {
  console.error('needs valgrind (callgrind, callgrind_control, callgrind_annotate): apt-get install valgrind');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'bench-instructions-'));
const rows = [];
try {
  for (const mode of MODES) {
    process.stderr.write(`instructions: ${mode}, ${WARM} warm-up and ${MEASURED} measured requests under callgrind…\n`);
    rows.push(await measure(mode, dir));
    process.stderr.write(`instructions: ${mode}: ${JSON.stringify(rows.at(-1))}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const als = rows.find((r) => r.mode === 'als')?.steadyInstructionsPerRequest;
// as a throughput ratio: the AsyncLocalStorage-only server's instructions ÷ this one's
for (const row of rows) if (als) row.vsAls = +(als / row.steadyInstructionsPerRequest).toFixed(3);
console.table(rows.map(({ ownFunctions, steadyMissesPerRequest, ownMissesPerRequest, ...row }) => row));
if (CACHE) {
  console.log('simulated misses per request outside the GC and the compilers (of them, in our JavaScript)');
  console.table(
    rows.map((row) => ({
      mode: row.mode,
      ...Object.fromEntries(Object.keys(MISS_EVENTS).map((kind) => [kind, `${row.steadyMissesPerRequest[kind]} (${row.ownMissesPerRequest[kind]})`])),
    })),
  );
}
for (const row of rows) {
  if (row.ownFunctions.length === 0) continue;
  console.log(`${row.mode}: the tracer's own JavaScript, ${row.ownInstructionsPerRequest} instructions per request`);
  console.table(row.ownFunctions);
}
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const results = {
  date: new Date().toISOString(),
  commit,
  node: process.version,
  warmUpRequests: WARM,
  measuredRequests: MEASURED,
  connections: CONNECTIONS,
  rows,
};
writeFileSync(new URL('./instructions.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(
  new URL('./instructions.svg', import.meta.url),
  renderBars(
    `bench/tracer/instructions.mjs, ${new Date().toISOString().slice(0, 10)}, ${WARM} warm-up and ${MEASURED} measured requests`,
    `Instructions per request outside the GC and the compilers (callgrind, Node ${process.version})`,
    'instr.',
    rows.map((r) => ({ label: r.mode, value: r.steadyInstructionsPerRequest })),
  ),
);
