import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { openSync, closeSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';

export interface LaunchSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Variables removed from the inherited environment. */
  unsetEnv?: string[];
  logFile: string;
  pidFile: string;
}

/** Every devstack JVM carries this system property, so `down` finds servers a crashed `up` left without pid files. */
export function markerArg(dir: string, name: string): string {
  return `-Dpintrace.devstack=${dir}#${name}`;
}

/**
 * The marker for a process that takes no JVM property and rewrites its own command line (nginx
 * shows "nginx: master process <args>"): a token it carries inside one of its arguments. Hashed,
 * so a dir path with spaces or quotes needs no escaping in that server's config syntax.
 */
export function markerToken(dir: string, name: string): string {
  return `pintrace-devstack-${createHash('sha256').update(markerArg(dir, name)).digest('hex').slice(0, 24)}`;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Pids of live processes whose command line carries the marker of this devstack dir (and server, if given). */
export function findMarkedPids(dir: string, name?: string): number[] {
  const wanted = name ? markerArg(dir, name) : `-Dpintrace.devstack=${dir}#`;
  const token = name ? markerToken(dir, name) : undefined;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.some((arg) => (name ? arg === wanted || (token !== undefined && arg.includes(token)) : arg.startsWith(wanted)))) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

function withoutVars(env: NodeJS.ProcessEnv, names: string[]): NodeJS.ProcessEnv {
  for (const name of names) delete env[name];
  return env;
}

/** Starts a server detached from this process (it outlives `devstack up`), output appended to its log file. */
export async function launch(spec: LaunchSpec): Promise<number> {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: withoutVars({ ...process.env, ...spec.env }, spec.unsetEnv ?? []),
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    await writeFile(spec.pidFile, `${pid}\n`);
    return pid;
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, wait for a clean exit (JVM shutdown hooks flush data), then SIGKILL what is left. */
export async function stopPids(pids: number[], graceMs = 20_000): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids.filter(isAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone in between
    }
  }
  while (pids.some(isAlive)) await sleep(50);
}

export async function removeFile(file: string): Promise<void> {
  await rm(file, { force: true });
}
