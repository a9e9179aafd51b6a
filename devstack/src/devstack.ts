import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { artifactsReady } from './artifacts.js';
import { checkPrerequisites } from './prerequisites.js';
import { findMarkedPids, isAlive, launch, removeFile, stopPids } from './process.js';
import { portInUse } from './probes.js';
import { Progress } from './progress.js';
import type { DevstackConfig } from './options.js';
import { elasticsearchServer } from './servers/elasticsearch.js';
import { kafkaServer } from './servers/kafka.js';
import type { ServerName, ServerSpec } from './servers/server.js';
import { zipkinServer } from './servers/zipkin.js';

export type { ServerName };

export const servers: readonly ServerSpec[] = [kafkaServer, elasticsearchServer, zipkinServer];

export interface ServerStatus {
  name: ServerName;
  address: string;
  pids: number[];
  /** Answers its readiness probe (ours, or one started elsewhere: see `external`). */
  ready: boolean;
  /** Answers, but is not a process of this devstack's dir (another checkout's, or the user's own). */
  external: boolean;
  detail?: string;
  logFile: string;
}

export class DevstackError extends Error {
  readonly code = 'PINTRACE_DEVSTACK';
  constructor(message: string) {
    super(message);
    this.name = 'DevstackError';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const homeOf = (config: DevstackConfig, s: ServerSpec) => path.join(config.dir, s.name);
const logOf = (config: DevstackConfig, s: ServerSpec) => s.logFile?.(config) ?? path.join(homeOf(config, s), 'console.log');
/** <name>.pid for the first process of a server, <name>-2.pid ... for the others (Kafka brokers). */
const pidFileOf = (config: DevstackConfig, s: ServerSpec, i = 0) => path.join(config.dir, i ? `${s.name}-${i + 1}.pid` : `${s.name}.pid`);

function logTail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log yet)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

function selected(only?: ServerName[]): ServerSpec[] {
  return servers.filter((s) => !only || only.includes(s.name));
}

/** The state of each server: our live processes and whether it answers its readiness probe. */
export async function status(config: DevstackConfig, only?: ServerName[]): Promise<ServerStatus[]> {
  return Promise.all(
    selected(only).map(async (s) => {
      const pids = findMarkedPids(config.dir, s.name);
      const probe = await s.probe(config);
      return {
        name: s.name,
        address: s.address(config),
        pids,
        ready: probe.ready,
        external: pids.length === 0 && probe.ready,
        detail: probe.detail,
        logFile: logOf(config, s),
      };
    }),
  );
}

/** Whether each server answers its readiness probe at the configured ports, whoever runs it. */
export async function reachable(config: DevstackConfig, only?: ServerName[]): Promise<Record<ServerName, boolean>> {
  const entries = await Promise.all(selected(only).map(async (s) => [s.name, (await s.probe(config)).ready] as const));
  return Object.fromEntries(entries) as Record<ServerName, boolean>;
}

async function startOne(config: DevstackConfig, s: ServerSpec, progress: Progress): Promise<void> {
  const home = homeOf(config, s);
  await mkdir(home, { recursive: true });
  let pids = findMarkedPids(config.dir, s.name);
  const conflict = pids.length ? s.conflict?.(config) : undefined;
  if (conflict) throw new DevstackError(conflict);
  if (pids.length && (await s.probe(config)).ready) {
    progress.update(s.name, 'running', `already up at ${s.address(config)}`);
    return;
  }
  // A server of several processes (Kafka brokers) may have lost some: start those, keep the rest.
  const expected = s.processes?.(config) ?? 1;
  if (!pids.length && (await portInUse(s.port(config)))) {
    // Another checkout's devstack (or the user's own server) already serves it: use it as it is.
    if ((await s.probe(config)).ready) {
      progress.update(s.name, 'running', `already up at ${s.address(config)} (not started from ${config.dir}; left alone)`);
      return;
    }
    throw new DevstackError(
      `${s.name}: port ${s.port(config)} is taken by a process that is not this devstack's (dir ${config.dir}) and does not answer as ${s.name}. ` +
        `Stop it, or pick another port (see pintrace devstack up --help).`,
    );
  }
  if (pids.length < expected) {
    progress.update(s.name, 'preparing', pids.length ? `${pids.length} of ${expected} processes running; starting the others` : '');
    const specs = [await s.prepare({ config, home, step: (detail) => progress.update(s.name, 'preparing', detail) })].flat();
    progress.update(s.name, 'starting', 'launching');
    for (const [i, spec] of specs.entries()) {
      const { instance, ...launchSpec } = spec;
      await launch({ ...launchSpec, name: s.name, logFile: spec.logFile ?? logOf(config, s), pidFile: pidFileOf(config, s, instance ?? i) });
    }
    pids = findMarkedPids(config.dir, s.name);
  } else {
    progress.update(s.name, 'starting', 'already launched, waiting for it');
  }
  const deadline = Date.now() + s.startTimeoutMs;
  for (;;) {
    const probe = await s.probe(config);
    if (probe.ready) {
      progress.update(s.name, 'ready', s.address(config));
      return;
    }
    if (!findMarkedPids(config.dir, s.name).some(isAlive)) {
      progress.update(s.name, 'failed', 'process exited');
      throw new DevstackError(`${s.name} exited during start. Last lines of ${logOf(config, s)}:\n${logTail(logOf(config, s))}`);
    }
    if (Date.now() > deadline) {
      progress.update(s.name, 'failed', 'timed out');
      throw new DevstackError(
        `${s.name} was not ready after ${s.startTimeoutMs / 1000}s (${probe.detail}). Last lines of ${logOf(config, s)}:\n${logTail(logOf(config, s))}`,
      );
    }
    progress.update(s.name, 'starting', probe.detail);
    await sleep(500);
  }
}

/**
 * Starts the servers (idempotent: running ones are left alone), each as soon as the servers it
 * needs are ready, and waits until all answer their readiness probes.
 */
export async function up(config: DevstackConfig, only?: ServerName[], out: NodeJS.WriteStream = process.stderr): Promise<ServerStatus[]> {
  const wanted = selected(only);
  const needMaven = wanted.some((s) => !artifactsReady(path.join(homeOf(config, s), 'lib'), s.name));
  await checkPrerequisites(needMaven);
  await mkdir(config.dir, { recursive: true });
  const progress = new Progress(
    wanted.map((s) => s.name),
    out,
  );
  const started = new Map<ServerName, Promise<void>>();
  const start = (s: ServerSpec): Promise<void> => {
    let p = started.get(s.name);
    if (!p) {
      const deps = s.after.map((n) => servers.find((x) => x.name === n)!);
      p = (async () => {
        if (deps.length) progress.update(s.name, 'waiting', `for ${s.after.join(', ')}`);
        await Promise.all(deps.map(start));
        await startOne(config, s, progress);
      })();
      started.set(s.name, p);
    }
    return p;
  };
  try {
    const results = await Promise.allSettled(wanted.map(start));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    // A server waiting on a failed one fails with the same error: report each cause once.
    if (failed.length) throw new DevstackError([...new Set(failed.map((f) => (f.reason as Error).message))].join('\n\n'));
  } finally {
    progress.finish();
  }
  return status(config, only);
}

/** Stops our servers, including ones a crashed `up` left behind without pid files. */
export async function down(config: DevstackConfig, only?: ServerName[], out: NodeJS.WriteStream = process.stderr): Promise<void> {
  const wanted = selected(only);
  const progress = new Progress(
    wanted.map((s) => s.name),
    out,
  );
  // zipkin first: it talks to Elasticsearch until it stops.
  for (const group of [wanted.filter((s) => s.name === 'zipkin'), wanted.filter((s) => s.name !== 'zipkin')]) {
    await Promise.all(
      group.map(async (s) => {
        const pids = findMarkedPids(config.dir, s.name);
        if (pids.length) {
          progress.update(s.name, 'stopping', `pid ${pids.join(',')}`);
          await stopPids(pids);
        }
        for (let i = 0; i < 8; i++) await removeFile(pidFileOf(config, s, i));
        progress.update(s.name, 'stopped', pids.length ? '' : 'was not running');
      }),
    );
  }
  progress.finish();
}
