/**
 * HTTP server throughput with tracing off, at 0.3 % and at 100 % sampling, plus `als` (no tracer,
 * each request inside AsyncLocalStorage.run: the floor any context propagation costs on this Node).
 * A small JSON answer over keep-alive connections. Each configuration runs in a fresh server
 * process; rounds are interleaved so a change in machine load hits all alike; medians are kept.
 *
 * Load generator: wrk (Debian's, C, 1 thread, 50 connections) when installed, else autocannon.
 * On Linux with taskset and at least 2 CPUs the server is pinned to CPU 0 and wrk to CPU 1, so
 * the load generator does not take CPU from the server and requests/s measure the server. The
 * server's CPU time per request (from /proc) is recorded too.
 *
 * Besides the medians, each configuration's best round (most requests/s, least CPU per request)
 * is kept: on the shared virtual machines this runs on, other load only ever slows a round down
 * (the untraced server moved between 23k and 86k req/s within one run, at any time scale down to
 * a second), so the best of several rounds is the closest to each configuration's own cost, and
 * ratios of bests compare like with like where ratios of medians mix rounds of different load.
 *
 * With BENCH_HTTP_OTHER_NODE=<path to another node binary>, every configuration also runs on
 * that Node, in the same rounds (so both Nodes see the same machine load); its rows are labelled
 * with its version and compared with its own `off`.
 *
 *   node bench/tracer/http-throughput.mjs [seconds per run] [rounds]
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { canPin, hasCommand, pinned } from '../lib/processes.mjs';

const require = createRequire(new URL('../../tracer/package.json', import.meta.url));
const SECONDS = Number(process.argv[2] ?? 8);
const ROUNDS = Number(process.argv[3] ?? 5);
const MODES = process.env.BENCH_HTTP_MODES
  ? JSON.parse(process.env.BENCH_HTTP_MODES)
  : [
      ['off', 'off'],
      ['als only', 'als'],
      ['bound: als + 1 constant span line, no tracer', 'line'],
      ['floor: als + 1 sampled span', 'floor'],
      ['0.3 %', '0.3'],
      ['100 %', '100'],
      ['OTel SDK + instrumentation-http, 100 %', 'otel'],
    ];
const OTHER_NODE = process.env.BENCH_HTTP_OTHER_NODE;
export const otherNodeVersion = OTHER_NODE ? execFileSync(OTHER_NODE, ['--version'], { encoding: 'utf8' }).trim() : undefined;

const WRK = hasCommand('wrk');
export const loadGenerator = `${WRK ? 'wrk -t1 -c50' : 'autocannon -c 50'}${canPin ? ', pinned to CPU 1, server to CPU 0' : ', unpinned'}`;

function startServer(mode, node = process.execPath) {
  const child = spawn(...pinned(0, node, [new URL('./http-server.mjs', import.meta.url).pathname, mode]), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let started = false;
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening (\d+)/.exec(out);
      if (m && !started) {
        started = true;
        child.removeAllListeners('exit');
        resolve({
          url: `http://127.0.0.1:${m[1]}/`,
          cpuMs: () => cpuMsOf(child.pid),
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done(/stats (.*)/.exec(out)?.[1] ? JSON.parse(/stats (.*)/.exec(out)[1]) : null));
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

/** User + system CPU of a process so far, in ms (Linux /proc; 0 elsewhere). */
function cpuMsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
  } catch {
    return 0;
  }
}

function collect(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

const ms = (value, unit) => Number(value) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? 1);

/** One load run: { requests, rps, p99Ms, errors }. */
async function load(url, seconds) {
  if (WRK) {
    const { code, out } = await collect(...pinned(1, 'wrk', ['-t1', '-c50', `-d${seconds}`, '--latency', url]));
    const requests = /(\d+) requests in/.exec(out);
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
    if (!requests || !rps) throw new Error(`wrk exited ${code} without a result:\n${out}`);
    const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
    const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    return {
      requests: Number(requests[1]),
      rps: Number(rps[1]),
      p99Ms: p99 ? +ms(p99[1], p99[2]).toFixed(2) : undefined,
      errors: Number(errors?.[1] ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
    };
  }
  const bin = require.resolve('autocannon/autocannon.js');
  const { code, out } = await collect(...pinned(1, process.execPath, [bin, '-c', '50', '-d', String(seconds), '-j', url]));
  let result;
  try {
    result = JSON.parse(out);
  } catch {
    throw new Error(`autocannon exited ${code} without a JSON result`);
  }
  return { requests: result.requests.total, rps: result.requests.average, p99Ms: result.latency.p99, errors: result.errors + result.non2xx };
}

/** `{ rows, other }`: a row per configuration (medians of the rounds), and the other Node's rows (or undefined). */
export async function httpThroughput(seconds = SECONDS, rounds = ROUNDS) {
  const runs = MODES.map(([label, mode]) => ({ label, mode, node: process.execPath }));
  if (OTHER_NODE) for (const [label, mode] of MODES) runs.push({ label: `${label} (${otherNodeVersion})`, mode, node: OTHER_NODE });
  const samples = Object.fromEntries(runs.map(({ label }) => [label, []]));
  for (let r = 0; r < rounds; r++) {
    for (const { label, mode, node } of runs) {
      const server = await startServer(mode, node);
      await load(server.url, 2); // warm-up
      const cpuBefore = server.cpuMs();
      const result = await load(server.url, seconds);
      const serverCpuUsPerReq = ((server.cpuMs() - cpuBefore) * 1000) / Math.max(1, result.requests);
      const stats = await server.stop();
      samples[label].push({
        rps: result.rps,
        serverCpuUsPerReq: +serverCpuUsPerReq.toFixed(2),
        p99Ms: result.p99Ms,
        errors: result.errors,
        spansWritten: stats?.written ?? stats?.exported ?? 0,
        spansDropped: stats?.dropped ?? 0,
      });
      process.stderr.write(`http round ${r + 1}/${rounds} ${label}: ${Math.round(result.rps)} req/s, ${serverCpuUsPerReq.toFixed(1)} µs CPU/request\n`);
    }
  }
  const rows = summarise(samples, (label) => label);
  return { rows, other: OTHER_NODE ? summarise(samples, (label) => `${label} (${otherNodeVersion})`) : undefined };
}

function summarise(samples, key) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const off = median(samples[key('off')].map((s) => s.rps));
  const offCpu = median(samples[key('off')].map((s) => s.serverCpuUsPerReq));
  return MODES.map(([base]) => {
    const label = key(base);
    const rps = median(samples[label].map((s) => s.rps));
    const cpu = median(samples[label].map((s) => s.serverCpuUsPerReq));
    return {
      sampling: base,
      reqPerSec: Math.round(rps),
      vsOff: +(rps / off).toFixed(3),
      bestReqPerSec: Math.round(Math.max(...samples[label].map((s) => s.rps))),
      bestServerCpuUsPerReq: Math.min(...samples[label].map((s) => s.serverCpuUsPerReq)),
      p99Ms: median(samples[label].map((s) => s.p99Ms ?? 0)),
      serverCpuUsPerReq: cpu,
      addedCpuUsPerReq: +(cpu - offCpu).toFixed(2),
      rounds: samples[label],
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.error(`load generator: ${loadGenerator}`);
  const result = await httpThroughput();
  for (const rows of [result.rows, result.other].filter(Boolean)) console.table(rows.map(({ rounds, ...row }) => row));
}
