import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveArtifacts } from '../artifacts.js';
import { ensureDevCerts } from '../certs.js';
import type { DevstackConfig } from '../options.js';
import { markerArg } from '../process.js';
import { httpProbe } from '../probes.js';
import { secretFile } from '../secrets.js';
import type { ServerLaunch, ServerSpec } from './server.js';
import { storeClientUrl } from './store.js';
import { ensureStoreSecrets } from './store-tls.js';

/**
 * zipkin-server's settings for the secured store, all through files so no secret is in its
 * environment or command line: ES_CREDENTIALS_FILE (a properties file zipkin re-reads) for the
 * user and password, and a Java @argfile for the truststore holding the devstack CA (zipkin's
 * Elasticsearch client takes the javax.net.ssl.trustStore* system properties). TLS is verified
 * (hostname included): ES_SSL_NO_VERIFY stays unset.
 */
async function secureStoreSettings(config: DevstackConfig): Promise<{ env: NodeJS.ProcessEnv; jvmArgs: string[] }> {
  const store = await ensureStoreSecrets(config.dir);
  const certs = await ensureDevCerts(config.dir);
  const credentials = secretFile(config.dir, 'zipkin-store.properties');
  await writeFile(
    credentials,
    `zipkin.storage.elasticsearch.username=${store.username}\nzipkin.storage.elasticsearch.password=${(await readFile(store.passwordFile, 'utf8')).trim()}\n`,
    { mode: 0o600 },
  );
  await chmod(credentials, 0o600);
  const argFile = secretFile(config.dir, 'zipkin-truststore.args');
  const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  await writeFile(
    argFile,
    [
      `-Djavax.net.ssl.trustStore=${quote(certs.truststoreFile)}`,
      '-Djavax.net.ssl.trustStoreType=PKCS12',
      `-Djavax.net.ssl.trustStorePassword=${quote((await readFile(certs.truststorePasswordFile, 'utf8')).trim())}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  await chmod(argFile, 0o600);
  return { env: { ES_CREDENTIALS_FILE: credentials }, jvmArgs: [`@${argFile}`] };
}

/**
 * zipkin-server 3.6.1 reading and writing the devstack's store (Elasticsearch or OpenSearch,
 * through the TLS front with the same credentials as every client when `--secure`). It is the compatibility
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
    const secure = config.secure ? await secureStoreSettings(config) : { env: {}, jvmArgs: [] };
    const env: NodeJS.ProcessEnv = {
      STORAGE_TYPE: 'elasticsearch',
      ES_HOSTS: storeClientUrl(config),
      // One replica per extra node: a two-node store keeps every shard on both and turns green.
      ES_INDEX_REPLICAS: String(config.storeNodes - 1),
      QUERY_PORT: String(config.zipkinPort),
      AUTOCOMPLETE_KEYS: config.autocompleteKeys,
      COLLECTOR_KAFKA_ENABLED: 'false',
      ...secure.env,
    };
    await mkdir(path.join(home, 'tmp'), { recursive: true });
    return {
      command: 'java',
      args: [markerArg(config.dir, 'zipkin'), `-Xmx${config.heap}`, `-Djava.io.tmpdir=${path.join(home, 'tmp')}`, ...secure.jvmArgs, '-jar', jar],
      cwd: home,
      env,
      // Credentials come from ES_CREDENTIALS_FILE only; stray ones in the user's shell must not win.
      unsetEnv: ['KAFKA_BOOTSTRAP_SERVERS', 'ES_USERNAME', 'ES_PASSWORD', 'ES_SSL_NO_VERIFY'],
    } satisfies ServerLaunch;
  },
  probe: (c) =>
    httpProbe(`http://127.0.0.1:${c.zipkinPort}/health`, (status, body) =>
      status === 200 && body.includes('UP') ? { ready: true } : { ready: false, detail: `health answered ${status}` },
    ),
};
