/**
 * The processes a bench runs and measures: free ports to give them, waiting for them, stopping
 * them, and what they cost, read from /proc (CPU as utime + stime of all threads, peak RSS as
 * VmHWM) so that measuring costs the measured process nothing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { cpus } from 'node:os';

const tick = 100; // USER_HZ: the unit of /proc/<pid>/stat's times on Linux

/** True when `cmd` is on the PATH (a load generator, valgrind, taskset). */
export function hasCommand(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a bench can give the measured process and its load generator a CPU each (Linux, two
 * CPUs or more, taskset installed), so the generator takes no CPU from what it measures.
 */
export const canPin = process.platform === 'linux' && cpus().length >= 2 && hasCommand('taskset');

/** `cmd args` as spawn arguments that run it on `cpu` when {@link canPin}, else as they are. */
export function pinned(cpu, cmd, args) {
  return canPin ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A loopback port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` every `intervalMs` until it returns something truthy (which it returns); a throw counts as not yet. */
export async function waitUntil(check, timeoutMs, what, intervalMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(intervalMs);
  }
}

export function killAndWait(child, signal = 'SIGTERM') {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** utime + stime of one process (all its threads), seconds; undefined once it is gone. */
export function processCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / tick;
  } catch {
    return undefined;
  }
}

/** Peak resident set of a process in MB (VmHWM); undefined once it is gone. */
export function peakRssMb(pid) {
  try {
    return Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of a process so far by thread name; its main (JS) thread as `main`, apart from
 * Node's other threads (V8's compiler and GC helpers, libuv's pool), which share its name.
 */
export function threadCpu(pid) {
  const out = {};
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const raw = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
      const f = raw.slice(raw.lastIndexOf(') ') + 2).split(' ');
      out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) / tick;
    }
  } catch {
    // gone
  }
  return out;
}

/**
 * A threadCpu() reading of one of our Node processes by who spent it: the JS thread (`main`;
 * Node's own TLS to the store runs here), librdkafka's threads (`rdk:*`: Kafka TLS and SASL),
 * and Node's other threads.
 */
export function threadGroups(threads) {
  const out = { main: 0, librdkafka: 0, other: 0 };
  for (const [name, s] of Object.entries(threads ?? {})) {
    if (name === 'main') out.main += s;
    else if (name.startsWith('rdk:')) out.librdkafka += s;
    else out.other += s;
  }
  return out;
}

/** threadGroups() as a results row's fields, seconds to the millisecond. */
export function threadGroupFields(threads) {
  const { main, librdkafka, other } = threadGroups(threads);
  const ms = (v) => Math.round(v * 1000) / 1000;
  return { mainCpuSeconds: ms(main), librdkafkaCpuSeconds: ms(librdkafka), otherCpuSeconds: ms(other) };
}
