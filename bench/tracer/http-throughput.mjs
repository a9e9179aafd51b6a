/**
 * HTTP server throughput with tracing off, at 0.3 % and at 100 % sampling (autocannon, keep-alive
 * connections, a small JSON answer). Each configuration runs in a fresh server process; rounds are
 * interleaved so a change in machine load hits all three alike; the median of the rounds is kept.
 * Besides requests/s, the server process's CPU time per request is recorded (from /proc): the
 * load generator shares the machine, so throughput also moves with its share of the CPUs.
 *
 *   node bench/tracer/http-throughput.mjs [seconds per run] [rounds]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tracer/package.json', import.meta.url));
const SECONDS = Number(process.argv[2] ?? 8);
const ROUNDS = Number(process.argv[3] ?? 3);
const MODES = [['off', 'off'], ['0.3 %', '0.3'], ['100 %', '100']];

function startServer(mode) {
  const child = spawn(process.execPath, [new URL('./http-server.mjs', import.meta.url).pathname, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
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
          stop: () => new Promise((done) => {
            child.once('exit', () => done(/stats (.*)/.exec(out)?.[1] ? JSON.parse(/stats (.*)/.exec(out)[1]) : null));
            child.kill('SIGTERM');
          }),
        });
      }
    });
  });
}

/** Runs the autocannon CLI (its own process, so the load generator and the bench do not mix). */
const autocannonBin = require.resolve('autocannon/autocannon.js');
/** User + system CPU of a process so far, in ms (Linux /proc; 0 elsewhere). */
function cpuMsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
  } catch {
    return 0;
  }
}

const run = (url, duration) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [autocannonBin, '-c', '50', '-d', String(duration), '-j', url], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`autocannon exited ${code} without a JSON result`));
      }
    });
  });

export async function httpThroughput(seconds = SECONDS, rounds = ROUNDS) {
  const samples = Object.fromEntries(MODES.map(([label]) => [label, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [label, mode] of MODES) {
      const server = await startServer(mode);
      await run(server.url, 2); // warm-up
      const cpuBefore = server.cpuMs();
      const result = await run(server.url, seconds);
      const serverCpuUsPerReq = ((server.cpuMs() - cpuBefore) * 1000) / Math.max(1, result.requests.total);
      const stats = await server.stop();
      samples[label].push({ rps: result.requests.average, serverCpuUsPerReq: +serverCpuUsPerReq.toFixed(2), p99Ms: result.latency.p99, errors: result.errors + result.non2xx, spansWritten: stats?.written ?? 0, spansDropped: stats?.dropped ?? 0 });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const off = median(samples.off.map((s) => s.rps));
  return MODES.map(([label]) => {
    const rps = median(samples[label].map((s) => s.rps));
    return {
      sampling: label,
      reqPerSec: Math.round(rps),
      vsOff: +(rps / off).toFixed(3),
      p99Ms: median(samples[label].map((s) => s.p99Ms)),
      serverCpuUsPerReq: median(samples[label].map((s) => s.serverCpuUsPerReq)),
      rounds: samples[label],
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await httpThroughput();
  console.table(rows.map(({ rounds, ...row }) => row));
}
