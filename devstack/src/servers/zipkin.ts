import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { resolveArtifacts } from '../artifacts.js';
import { markerArg } from '../process.js';
import { httpProbe } from '../probes.js';
import type { ServerSpec } from './server.js';

/**
 * zipkin-server 3.6.1 reading and writing the devstack's Elasticsearch. It is the compatibility
 * oracle for our storage format and API, and serves the Zipkin UI at /zipkin/. It must not consume
 * Kafka (KAFKA_BOOTSTRAP_SERVERS stays unset): our collector does.
 */
export const zipkinServer: ServerSpec = {
  name: 'zipkin',
  port: (c) => c.zipkinPort,
  address: (c) => `http://127.0.0.1:${c.zipkinPort}/zipkin/`,
  after: ['elasticsearch'],
  startTimeoutMs: 180_000,
  async prepare({ config, home, step }) {
    step('resolving jar (Maven)');
    const [jar] = await resolveArtifacts(path.join(home, 'lib'), 'zipkin');
    if (!jar) throw new Error('Maven resolved no zipkin-server jar');
    const env: NodeJS.ProcessEnv = {
      STORAGE_TYPE: 'elasticsearch',
      ES_HOSTS: `http://127.0.0.1:${config.esPort}`,
      ES_INDEX_REPLICAS: '0',
      QUERY_PORT: String(config.zipkinPort),
      AUTOCOMPLETE_KEYS: config.autocompleteKeys,
      COLLECTOR_KAFKA_ENABLED: 'false',
    };
    await mkdir(path.join(home, 'tmp'), { recursive: true });
    return {
      command: 'java',
      args: [markerArg(config.dir, 'zipkin'), `-Xmx${config.heap}`, `-Djava.io.tmpdir=${path.join(home, 'tmp')}`, '-jar', jar],
      cwd: home,
      env,
      unsetEnv: ['KAFKA_BOOTSTRAP_SERVERS'],
    };
  },
  probe: (c) =>
    httpProbe(`http://127.0.0.1:${c.zipkinPort}/health`, (status, body) =>
      status === 200 && body.includes('UP') ? { ready: true } : { ready: false, detail: `health answered ${status}` },
    ),
};
