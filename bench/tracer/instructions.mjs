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
 *
 *   node bench/tracer/instructions.mjs [warm-up requests] [measured requests]
 *   BENCH_INSTR_MODES='["als","0.3"]' to choose configurations (http-server.mjs modes).
 * Needs valgrind (Debian package `valgrind`); about a minute and a half per configuration.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  let all = 0;
  let gc = 0;
  let compiler = 0;
  const own = new Map();
  for (const line of annotated.split('\n')) {
    const m = /^\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*)$/.exec(line);
    if (!m || line.includes('PROGRAM TOTALS')) continue;
    const count = Number(m[1].replaceAll(',', ''));
    all += count;
    if (GC.test(m[2])) gc += count;
    else if (COMPILER.test(m[2])) compiler += count;
    else {
      // compiled JavaScript has no symbol: callgrind names it by its start address
      const jit = /^\?\?\?:0x([0-9a-f]+)/.exec(m[2]);
      const fn = jit ? ownFunction(compiled.get(Number.parseInt(jit[1], 16)) ?? '') : undefined;
      if (fn !== undefined) own.set(fn, (own.get(fn) ?? 0) + count);
    }
  }
  const perRequest = (n) => Math.round(n / MEASURED);
  const ownFunctions = [...own].sort((a, b) => b[1] - a[1]);
  return {
    mode,
    instructionsPerRequest: perRequest(all),
    nonGcInstructionsPerRequest: perRequest(all - gc),
    compilerInstructionsPerRequest: perRequest(compiler),
    steadyInstructionsPerRequest: perRequest(all - gc - compiler),
    ownInstructionsPerRequest: perRequest(ownFunctions.reduce((sum, [, n]) => sum + n, 0)),
    ownFunctions: ownFunctions.filter(([, n]) => perRequest(n) >= 5).map(([name, n]) => ({ name, instructionsPerRequest: perRequest(n) })),
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
console.table(rows.map(({ ownFunctions, ...row }) => row));
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
