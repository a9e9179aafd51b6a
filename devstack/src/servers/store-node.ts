/**
 * The nodes of the store: each node's home (config, the netty4 module, data, logs) and its JVM.
 * Node 1 lives in <dir>/<store>/ (where the single node always lived, so its data carries over);
 * node i > 1 in <dir>/<store>/node-i/. All nodes share the jars in <dir>/<store>/lib and the
 * launcher compiled once into <dir>/<store>/launcher.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveArtifacts } from '../artifacts.js';
import type { DevstackConfig } from '../options.js';
import { markerArg } from '../process.js';
import type { PrepareContext, ServerLaunch } from './server.js';
import { jdkFor, type StoreEngine } from './store-engines.js';
import { prepareSecurityPlugin } from './store-security-plugin.js';

const run = promisify(execFile);

/** Whether the store is secured by nginx in front of it (else by the nodes themselves, or not at all). */
export const securedByFront = (config: DevstackConfig) => config.secure && config.storeSecurity === 'front';

/**
 * HTTP port of each node. Behind the TLS front the nodes move 10 ports up: the front takes
 * --es-port, so the port clients are given never serves unauthenticated plaintext. With the
 * security plugin the nodes serve TLS themselves on --es-port and up.
 */
export function storeHttpPorts(config: DevstackConfig): number[] {
  const first = securedByFront(config) ? config.esPort + 10 : config.esPort;
  return Array.from({ length: config.storeNodes }, (_, i) => first + i);
}

export function storeTransportPorts(config: DevstackConfig): number[] {
  return Array.from({ length: config.storeNodes }, (_, i) => config.esTransportPort + i);
}

/** Names a store JVM's node number (1-based) on its command line, for restarts and fault tests. */
export const STORE_NODE_PROP = '-Dpintrace.devstack.node=';

const nodeName = (i: number) => (i === 0 ? 'devstack' : `devstack-${i + 1}`);

export function nodeHome(storeHome: string, i: number): string {
  return i === 0 ? storeHome : path.join(storeHome, `node-${i + 1}`);
}

function nodeYml(engine: StoreEngine, config: DevstackConfig, home: string, i: number, extra: string[]): string {
  const http = storeHttpPorts(config);
  const transport = storeTransportPorts(config);
  const names = http.map((_, j) => nodeName(j));
  const discovery =
    config.storeNodes === 1
      ? ['discovery.type: single-node']
      : [
          `discovery.seed_hosts: [${transport.map((p) => `"127.0.0.1:${p}"`).join(', ')}]`,
          // Read only when a new cluster forms; an existing data dir keeps its cluster.
          `${engine.initialManagersKey}: ["${names[0]}"]`,
          // Node 1 is the only master-eligible node: two or three eligible nodes on one machine
          // would tolerate no loss anyway (a quorum of 2 needs both), and which one could be lost
          // would change from run to run. So losing any other node keeps the cluster writable
          // (yellow, replicas promoted); losing node 1 stops it until node 1 is back.
          ...(i === 0 ? [] : ['node.roles: [ data, ingest ]']),
        ];
  return [
    'cluster.name: pintrace-devstack',
    `node.name: ${nodeName(i)}`,
    ...discovery,
    'network.host: 127.0.0.1',
    `http.port: ${http[i]}`,
    `transport.port: ${transport[i]}`,
    // Relative paths would resolve against the working directory.
    `path.data: ${path.join(home, 'data')}`,
    `path.logs: ${path.join(home, 'logs')}`,
    // A laptop or CI disk that is 90% full must not turn the indices read-only.
    'cluster.routing.allocation.disk.threshold_enabled: false',
    ...extra,
    '',
  ].join('\n');
}

function nettyDescriptor(engine: StoreEngine): string {
  return [
    'description=Netty 4 based transport implementation',
    `version=${engine.version}`,
    'name=transport-netty4',
    `classname=${engine.nettyClass}`,
    `java.version=${engine.javaMajor}`,
    `${engine.descriptorVersionKey}=${engine.version}`,
    'extended.plugins=',
    'has.native.controller=false',
    '',
  ].join('\n');
}

const isTransportJar = (jar: string) => /(^|\/)(netty-[^/]*|transport-netty4-[^/]*)\.jar$/.test(jar);

/**
 * Prepares the homes of the nodes not in `running` (0-based) and returns their launches, each with
 * its `instance` (node i is instance i-1). A running node's home is left as it is.
 */
export async function prepareStoreNodes(
  engine: StoreEngine,
  { config, home, step }: PrepareContext,
  running: ReadonlySet<number> = new Set(),
): Promise<ServerLaunch[]> {
  const jdk = jdkFor(engine, config);
  step(`resolving ${engine.label} jars (Maven)`);
  const jars = await resolveArtifacts(path.join(home, 'lib'), engine.artifacts);
  const serverJars = jars.filter((j) => !isTransportJar(j));
  const cp = serverJars.join(':');
  const classes = path.join(home, 'launcher');
  if (!existsSync(path.join(classes, `${engine.launcher}.class`))) {
    step('compiling the node launcher');
    await mkdir(classes, { recursive: true });
    const source = fileURLToPath(new URL(`../../java/${engine.launcher}.java`, import.meta.url));
    await run(jdk.javac, ['-d', classes, '-cp', cp, source]);
  }
  const plugin = config.secure && config.storeSecurity === 'plugin' ? await prepareSecurityPlugin(engine, { config, home, step }, cp, jdk) : undefined;
  const launches: ServerLaunch[] = [];
  for (let i = 0; i < config.storeNodes; i++) {
    if (running.has(i)) continue;
    const nh = nodeHome(home, i);
    // The HTTP transport loads as a module from its own directory, never from the main classpath.
    // Rebuilt on every launch: a few MB, and it always matches the jars in lib/.
    const module = path.join(nh, 'modules', 'transport-netty4');
    await rm(module, { recursive: true, force: true });
    await mkdir(module, { recursive: true });
    for (const jar of jars.filter(isTransportJar)) await copyFile(jar, path.join(module, path.basename(jar)));
    await writeFile(path.join(module, 'plugin-descriptor.properties'), nettyDescriptor(engine));
    for (const d of ['plugins', 'tmp', 'config']) await mkdir(path.join(nh, d), { recursive: true });
    // A plugin left by an earlier `--store-security plugin` run must not load into a plain node.
    await rm(path.join(nh, 'plugins', 'opensearch-security'), { recursive: true, force: true });
    if (plugin) await plugin.install(nh);
    await writeFile(path.join(nh, 'config', engine.configFile), nodeYml(engine, config, nh, i, plugin?.settings ?? []));
    launches.push({
      command: jdk.java,
      args: [
        markerArg(config.dir, engine.kind),
        `${STORE_NODE_PROP}${i + 1}`,
        `-Xmx${config.heap}`,
        `-Xms${config.heap}`,
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        '-Dlog4j2.formatMsgNoLookups=true',
        '-Dio.netty.noUnsafe=true',
        '-Dio.netty.recycler.maxCapacityPerThread=0',
        `-Djava.io.tmpdir=${path.join(nh, 'tmp')}`,
        '-cp',
        `${classes}:${cp}`,
        engine.launcher,
        nh,
      ],
      cwd: nh,
      logFile: path.join(nh, 'console.log'),
      instance: i,
    });
  }
  return launches;
}
