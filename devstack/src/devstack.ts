import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { artifactsReady, type ArtifactSet } from './artifacts.js';
import { checkPrerequisites } from './prerequisites.js';
import { findMarkedPids, isAlive, launch, removeFile, stopPids } from './process.js';
import { portInUse } from './probes.js';
import { Progress } from './progress.js';
import type { DevstackConfig } from './options.js';
import { kafkaServer } from './servers/kafka.js';
import { storeAliases, type ServerName, type ServerSpec } from './servers/server.js';
import { allStoreServers, storeServerOf } from './servers/store.js';
import { zipkinServer } from './servers/zipkin.js';

export type { ServerName };

/** The servers `config` runs: Kafka, the store `--storage` chose, zipkin-server. */
export function serversOf(config: DevstackConfig): ServerSpec[] {
  return [kafkaServer, storeServerOf(config), zipkinServer];
}

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

/**
 * The servers `only` names (all of `config`'s when absent). `store` and `elasticsearch` name the
 * store `--storage` chose; an engine's own name (`opensearch`) names that store. With `everyStore`
 * (for `down`) the default also covers stores another `--storage` left running in this dir.
 */
function selected(config: DevstackConfig, only?: readonly string[], everyStore = false): ServerSpec[] {
  const store = storeServerOf(config);
  const candidates = [kafkaServer, store, ...allStoreServers.filter((s) => s !== store), zipkinServer];
  if (!only) return candidates.filter((s) => !s.store || s === store || everyStore);
  // `elasticsearch` is an alias before it is a name: with --storage opensearch it means OpenSearch.
  return candidates.filter((s) =>
    s === store ? only.some((n) => n === s.name || storeAliases.includes(n)) : only.includes(s.name) && !storeAliases.includes(s.name),
  );
}

/** The state of each server: our live processes and whether it answers its readiness probe. */
export async function status(config: DevstackConfig, only?: readonly string[]): Promise<ServerStatus[]> {
  return Promise.all(
    selected(config, only).map(async (s) => {
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
export async function reachable(config: DevstackConfig, only?: readonly string[]): Promise<Partial<Record<ServerName, boolean>>> {
  const entries = await Promise.all(selected(config, only).map(async (s) => [s.name, (await s.probe(config)).ready] as const));
  return Object.fromEntries(entries) as Partial<Record<ServerName, boolean>>;
}

async function startOne(config: DevstackConfig, s: ServerSpec, progress: Progress): Promise<void> {
  const home = homeOf(config, s);
  await mkdir(home, { recursive: true });
  let pids = findMarkedPids(config.dir, s.name);
  /** What this call launched: one of several processes (a node, a TLS front) dying fails the start too. */
  const launched: { pid: number; logFile: string }[] = [];
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
      const logFile = spec.logFile ?? logOf(config, s);
      launched.push({ pid: await launch({ ...launchSpec, name: s.name, logFile, pidFile: pidFileOf(config, s, instance ?? i) }), logFile });
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
    // One broker of three dying at start fails the start too, instead of waiting out the timeout.
    const alive = findMarkedPids(config.dir, s.name).filter(isAlive).length;
    if (alive < expected) {
      progress.update(s.name, 'failed', 'process exited');
      const which = expected > 1 ? ` (${expected - alive} of ${expected} processes)` : '';
      // The log of a process that died (a node, the TLS front) says why; else the server's main log.
      const log = launched.find((l) => !isAlive(l.pid))?.logFile ?? logOf(config, s);
      throw new DevstackError(`${s.name} exited during start${which}. Last lines of ${log}:\n${logTail(log)}`);
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
export async function up(config: DevstackConfig, only?: readonly string[], out: NodeJS.WriteStream = process.stderr): Promise<ServerStatus[]> {
  const wanted = selected(config, only);
  const needMaven = wanted.some((s) =>
    s.needsDownload ? s.needsDownload(config) : !artifactsReady(path.join(homeOf(config, s), 'lib'), s.name as ArtifactSet),
  );
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
      const deps = selected(config, s.after);
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
export async function down(config: DevstackConfig, only?: readonly string[], out: NodeJS.WriteStream = process.stderr): Promise<void> {
  const wanted = selected(config, only, true);
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
