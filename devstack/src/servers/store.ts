/**
 * The store server: Elasticsearch 8.8.2, OpenSearch 2.19 or OpenSearch 3.x (`--storage`), one node
 * or a cluster of `--store-nodes` on loopback, and with `--secure` a TLS + auth front on --es-port
 * (store-tls.ts). One server in `up`/`status`/`down`: its nodes and front are its processes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { artifactsReady } from '../artifacts.js';
import { updateClientConfig } from '../client-config.js';
import type { DevstackConfig } from '../options.js';
import { findMarkedPids, markerToken } from '../process.js';
import { httpProbe, type ProbeResult } from '../probes.js';
import type { ServerSpec } from './server.js';
import { storeEngines, type StoreEngine, type StoreKind } from './store-engines.js';
import { prepareStoreNodes, securedByFront, STORE_NODE_PROP, storeHttpPorts } from './store-node.js';
import { ensureStoreSecrets, prepareTlsFront, tlsProbe } from './store-tls.js';

/**
 * What clients are given: the TLS front when it secures the store, else every node (clients
 * spread over them), over https when the nodes run the security plugin.
 */
export function storeClientUrl(config: DevstackConfig): string {
  if (securedByFront(config)) return `https://127.0.0.1:${config.esPort}`;
  const scheme = config.secure ? 'https' : 'http';
  return storeHttpPorts(config)
    .map((p) => `${scheme}://127.0.0.1:${p}`)
    .join(',');
}

/** Client options this launcher owns in client-config.json: every `es…` key. */
const ownsStoreKey = (key: string) => key === 'es' || /^es[A-Z]/.test(key);

/**
 * Writes the store's client settings. Basic auth goes into client-config.json; the API key goes
 * into client-config.api-key.json (store keys only), because a part refuses a config that gives
 * both (see runtime/src/connection.ts). Only the front checks API keys.
 */
async function writeClientSettings(config: DevstackConfig): Promise<void> {
  const apiKeyConfig = path.join(config.dir, 'client-config.api-key.json');
  // The parts' --es takes one URL: node 1 (or the front, which spreads over the nodes).
  const es = storeClientUrl(config).split(',')[0]!;
  if (!securedByFront(config)) await rm(apiKeyConfig, { force: true });
  if (!config.secure) {
    await updateClientConfig(config.dir, ownsStoreKey, { es });
    return;
  }
  const s = await ensureStoreSecrets(config.dir);
  await updateClientConfig(config.dir, ownsStoreKey, { es, esUsername: s.username, esPasswordFile: s.passwordFile, esCaFile: s.caFile });
  if (securedByFront(config)) {
    await writeFile(apiKeyConfig, JSON.stringify({ es, esApiKeyFile: s.apiKeyFile, esCaFile: s.caFile }, null, 2) + '\n');
  }
}

/** The layout the running processes were launched with: a different one needs `down` first. */
interface RunningLayout {
  secure: boolean;
  storeSecurity: DevstackConfig['storeSecurity'];
  storeNodes: number;
  esPort: number;
}

const layoutOf = (c: DevstackConfig): RunningLayout => ({ secure: c.secure, storeSecurity: c.storeSecurity, storeNodes: c.storeNodes, esPort: c.esPort });

const layoutFile = (config: DevstackConfig, engine: StoreEngine) => path.join(config.dir, engine.kind, 'running.json');

function conflictOf(engine: StoreEngine, config: DevstackConfig): string | undefined {
  const file = layoutFile(config, engine);
  if (!existsSync(file)) return undefined;
  const running = JSON.parse(readFileSync(file, 'utf8')) as RunningLayout;
  const wanted = layoutOf(config);
  const diffs = (Object.keys(wanted) as (keyof RunningLayout)[]).filter((k) => running[k] !== wanted[k]);
  if (!diffs.length) return undefined;
  return (
    `${engine.kind} runs from ${config.dir} with ${diffs.map((k) => `${k}=${running[k]}`).join(', ')}, and ${diffs.map((k) => `${k}=${wanted[k]}`).join(', ')} was asked. ` +
    `Stop it first: pintrace devstack down ${engine.kind} --dir ${config.dir}`
  );
}

function health(config: DevstackConfig): (status: number, body: string) => ProbeResult {
  return (status, body) => {
    if (status !== 200) return { ready: false, detail: `cluster health answered ${status}` };
    const h = JSON.parse(body) as { status?: string; number_of_nodes?: number };
    if (h.status !== 'green' && h.status !== 'yellow') return { ready: false, detail: `cluster ${h.status}` };
    if ((h.number_of_nodes ?? 0) < config.storeNodes) return { ready: false, detail: `${h.number_of_nodes} of ${config.storeNodes} nodes joined` };
    return { ready: true, detail: h.status };
  };
}

/**
 * Ready when node 1 answers `GET /` as this engine (so another store on the port is not taken for
 * it), every node sees a green or yellow cluster of all nodes, and, when secured, the TLS front
 * lets the devstack's credentials through.
 */
async function probeStore(engine: StoreEngine, config: DevstackConfig): Promise<ProbeResult> {
  const ports = storeHttpPorts(config);
  // Nodes with the security plugin answer only TLS with credentials; others plain HTTP.
  const get = (port: number, urlPath: string, check: (status: number, body: string) => ProbeResult) =>
    config.secure && !securedByFront(config) ? tlsProbe(config, port, urlPath, check) : httpProbe(`http://127.0.0.1:${port}${urlPath}`, check);
  const identity = await get(ports[0]!, '/', (status, body) => {
    if (status !== 200) return { ready: false, detail: `GET / answered ${status}` };
    const version = (JSON.parse(body) as { version?: { number?: string; distribution?: string } }).version;
    const distribution = version?.distribution ?? 'elasticsearch';
    return distribution === engine.distribution && version?.number === engine.version
      ? { ready: true }
      : { ready: false, detail: `answers as ${distribution} ${version?.number}, not ${engine.label}` };
  });
  if (!identity.ready) return identity;
  let last: ProbeResult = { ready: true };
  for (const port of ports) {
    last = await get(port, '/_cluster/health?timeout=1s', health(config));
    if (!last.ready) return ports.length > 1 ? { ready: false, detail: `node :${port}: ${last.detail}` } : last;
  }
  if (!securedByFront(config)) return config.secure && last.ready ? { ready: true, detail: `${last.detail}, security plugin` } : last;
  const front = await tlsProbe(config, config.esPort, '/_cluster/health?timeout=1s', health(config));
  return front.ready ? { ready: true, detail: `${front.detail}, TLS front` } : front;
}

export interface StoreProcesses {
  /** The running nodes: node 1 is the first (it serves --es-port unless the front does). */
  nodes: Array<{ node: number; pid: number }>;
  /** The TLS front's (nginx master's) pid, when it runs. */
  front?: number;
}

/** The store's running processes of this dir, e.g. to SIGKILL one node in a fault test. */
export function storeProcesses(config: DevstackConfig): StoreProcesses {
  const out: StoreProcesses = { nodes: [] };
  for (const pid of findMarkedPids(config.dir, storeServerOf(config).name)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const arg = cmdline.split('\0').find((a) => a.startsWith(STORE_NODE_PROP));
      if (arg) out.nodes.push({ node: Number(arg.slice(STORE_NODE_PROP.length)), pid });
      else if (cmdline.includes(markerToken(config.dir, storeServerOf(config).name))) out.front = pid;
      // A node started before nodes were numbered was the only one.
      else out.nodes.push({ node: 1, pid });
    } catch {
      // exited while we looked
    }
  }
  out.nodes.sort((a, b) => a.node - b.node);
  return out;
}

/**
 * Which of the store's processes still run (0-based instances: the nodes, then the TLS front), so
 * `up` restarts only a killed node beside the live ones.
 */
function runningInstances(config: DevstackConfig): Set<number> {
  const { nodes, front } = storeProcesses(config);
  const running = new Set(nodes.map((n) => n.node - 1));
  if (front !== undefined) running.add(config.storeNodes);
  return running;
}

function storeServer(engine: StoreEngine): ServerSpec {
  return {
    name: engine.kind,
    store: true,
    port: (c) => c.esPort,
    address: (c) => storeClientUrl(c),
    after: [],
    startTimeoutMs: 180_000,
    needsDownload: (c) => !artifactsReady(path.join(c.dir, engine.kind, 'lib'), engine.artifacts),
    conflict: (c) => conflictOf(engine, c),
    processes: (c) => c.storeNodes + (securedByFront(c) ? 1 : 0),
    async prepare(ctx) {
      const running = runningInstances(ctx.config);
      const launches = await prepareStoreNodes(engine, ctx, running);
      if (securedByFront(ctx.config) && !running.has(ctx.config.storeNodes)) {
        ctx.step('TLS front (nginx), certificates and credentials');
        launches.push({ ...(await prepareTlsFront(ctx.config, ctx.home, storeHttpPorts(ctx.config), engine.kind)), instance: ctx.config.storeNodes });
      }
      await writeClientSettings(ctx.config);
      await writeFile(layoutFile(ctx.config, engine), JSON.stringify(layoutOf(ctx.config)) + '\n');
      return launches;
    },
    probe: (c) => probeStore(engine, c),
  };
}

const byKind = Object.fromEntries(Object.values(storeEngines).map((e) => [e.kind, storeServer(e)])) as Record<StoreKind, ServerSpec>;

/** The store server `--storage` selects. */
export function storeServerOf(config: DevstackConfig): ServerSpec {
  return byKind[config.storage];
}

/** Every store server, whatever `--storage` says (`down` and `status` of a dir see them all). */
export const allStoreServers: readonly ServerSpec[] = Object.values(byKind);
