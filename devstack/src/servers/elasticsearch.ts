import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveArtifacts } from '../artifacts.js';
import { markerArg } from '../process.js';
import { httpProbe } from '../probes.js';
import type { ServerSpec } from './server.js';

const run = promisify(execFile);
const launcherSource = fileURLToPath(new URL('../../java/EsNode.java', import.meta.url));

function elasticsearchYml(home: string, httpPort: number, transportPort: number): string {
  return [
    'cluster.name: pintrace-devstack',
    'node.name: devstack',
    'discovery.type: single-node',
    'network.host: 127.0.0.1',
    `http.port: ${httpPort}`,
    `transport.port: ${transportPort}`,
    // Relative paths would resolve against the working directory.
    `path.data: ${path.join(home, 'data')}`,
    `path.logs: ${path.join(home, 'logs')}`,
    // A laptop or CI disk that is 90% full must not turn the indices read-only.
    'cluster.routing.allocation.disk.threshold_enabled: false',
    '',
  ].join('\n');
}

const netty4Descriptor = [
  'description=Netty 4 based transport implementation',
  'version=8.8.2',
  'name=transport-netty4',
  'classname=org.elasticsearch.transport.netty4.Netty4Plugin',
  'java.version=17',
  'elasticsearch.version=8.8.2',
  'extended.plugins=',
  'has.native.controller=false',
  '',
].join('\n');

const isTransportJar = (jar: string) => /(^|\/)(netty-[^/]*|transport-netty4-[^/]*)\.jar$/.test(jar);

/** A real Elasticsearch 8.8.2 node assembled from Maven Central jars (server + netty4 HTTP module). */
export const elasticsearchServer: ServerSpec = {
  name: 'elasticsearch',
  port: (c) => c.esPort,
  address: (c) => `http://127.0.0.1:${c.esPort}`,
  after: [],
  startTimeoutMs: 180_000,
  async prepare({ config, home, step }) {
    step('resolving jars (Maven)');
    const jars = await resolveArtifacts(path.join(home, 'lib'), 'elasticsearch');
    const serverJars = jars.filter((j) => !isTransportJar(j));
    // The HTTP transport loads as a module from its own directory, never from the main classpath.
    const module = path.join(home, 'modules', 'transport-netty4');
    if (!existsSync(path.join(module, 'plugin-descriptor.properties'))) {
      await rm(module, { recursive: true, force: true });
      await mkdir(module, { recursive: true });
      for (const jar of jars.filter(isTransportJar)) await copyFile(jar, path.join(module, path.basename(jar)));
      await writeFile(path.join(module, 'plugin-descriptor.properties'), netty4Descriptor);
    }
    await mkdir(path.join(home, 'plugins'), { recursive: true });
    await mkdir(path.join(home, 'tmp'), { recursive: true });
    await mkdir(path.join(home, 'config'), { recursive: true });
    await writeFile(path.join(home, 'config', 'elasticsearch.yml'), elasticsearchYml(home, config.esPort, config.esTransportPort));
    const classes = path.join(home, 'launcher');
    const cp = serverJars.join(':');
    if (!existsSync(path.join(classes, 'EsNode.class'))) {
      step('compiling the node launcher');
      await mkdir(classes, { recursive: true });
      await run('javac', ['-d', classes, '-cp', cp, launcherSource]);
    }
    return {
      command: 'java',
      args: [
        markerArg(config.dir, 'elasticsearch'),
        `-Xmx${config.heap}`,
        `-Xms${config.heap}`,
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        '-Dlog4j2.formatMsgNoLookups=true',
        '-Dio.netty.noUnsafe=true',
        '-Dio.netty.recycler.maxCapacityPerThread=0',
        `-Djava.io.tmpdir=${path.join(home, 'tmp')}`,
        '-cp',
        `${classes}:${cp}`,
        'EsNode',
        home,
      ],
      cwd: home,
    };
  },
  probe: (c) =>
    httpProbe(`http://127.0.0.1:${c.esPort}/_cluster/health?timeout=1s`, (status, body) => {
      if (status !== 200) return { ready: false, detail: `cluster health answered ${status}` };
      const health = (JSON.parse(body) as { status?: string }).status;
      return health === 'green' || health === 'yellow' ? { ready: true, detail: health } : { ready: false, detail: `cluster ${health}` };
    }),
};
