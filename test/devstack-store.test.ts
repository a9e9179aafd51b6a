/**
 * The devstack's store variants, each on real servers in a private devstack (port block 5, its own
 * dir under var/): OpenSearch 2.19 behind the secured front with zipkin-server on it, two OpenSearch
 * nodes secured by the security plugin (TLS between them too), and OpenSearch 3.x on a Java 21+ JDK. Heaps are small and each variant is
 * stopped before the next starts, so at most three JVMs run at once.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clientConfigFile, readClientConfig, storeHttpPorts, storeProcesses } from '@pintrace/devstack';
import { commonOptions, resolveConfig, storeConnectionOf, storeConnectionOptions } from '@pintrace/runtime';
import { privateDevstack, type PrivateDevstack } from './support/private-devstack.js';

const BLOCK = 5;

interface Answer {
  status: number;
  body: string;
}

interface TlsOptions {
  ca?: string;
  auth?: string;
  headers?: Record<string, string>;
}

/** One HTTPS request; resolves with the answer, or rejects with the TLS/socket error (its code tells why). */
function httpsRequest(method: string, url: string, opts: TlsOptions, json?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...opts.headers, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) };
    const req = https.request(url, { method, ca: opts.ca, auth: opts.auth, headers, timeout: 70_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(json !== undefined ? JSON.stringify(json) : undefined);
  });
}

const httpsGet = (url: string, opts: TlsOptions) => httpsRequest('GET', url, opts);

/** Every file under `dir` that a server or the devstack writes as a log. */
function logFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      if (['lib', 'data', 'secrets', 'modules', 'launcher', 'tmp'].includes(e)) continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.log$/.test(e)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Collects `up`'s progress lines, so the test can check they carry no secret. */
function captured(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

describe('devstack --storage opensearch --secure: OpenSearch 2.19 behind TLS and auth, zipkin-server on it', () => {
  const pd: PrivateDevstack = privateDevstack('store-secure', BLOCK, ['elasticsearch', 'zipkin'], { storage: 'opensearch', secure: true, heap: '384m' });
  const out = captured();
  let ca = '';
  let password = '';
  let apiKey = '';
  afterAll(() => pd.stop(), 120_000);

  it('starts, and writes the client settings as files under the dir', async () => {
    const { up } = await import('@pintrace/devstack');
    await up(pd.config, ['elasticsearch', 'zipkin'], out.stream);
    const client = await readClientConfig(pd.config.dir);
    expect(client).toMatchObject({ es: `https://127.0.0.1:${pd.config.esPort}`, esUsername: 'pintrace' });
    expect(pd.es).toBe(client.es);
    const files = { esPasswordFile: String(client.esPasswordFile), esCaFile: String(client.esCaFile) };
    expect(files.esPasswordFile.startsWith(path.join(pd.config.dir, 'secrets'))).toBe(true);
    expect(statSync(files.esPasswordFile).mode & 0o077).toBe(0);
    // The files are what a part takes as --config: resolved as the parts resolve them.
    const storeOptions = { es: commonOptions.es, ...storeConnectionOptions };
    const basic = storeConnectionOf(resolveConfig(storeOptions, { env: {}, file: clientConfigFile(pd.config.dir) }));
    expect(basic).toMatchObject({ url: pd.es, username: 'pintrace', caFile: files.esCaFile });
    const byKey = storeConnectionOf(resolveConfig(storeOptions, { env: {}, file: path.join(pd.config.dir, 'client-config.api-key.json') }));
    expect(byKey.username).toBeUndefined();
    ca = readFileSync(files.esCaFile, 'utf8');
    password = basic.password!;
    apiKey = byKey.apiKey!;
    expect(password).toBe(readFileSync(files.esPasswordFile, 'utf8').trim());
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(Buffer.from(apiKey, 'base64').toString()).toMatch(/^[\w-]+:[\w-]+$/);
  });

  it('GET / with the CA and the password: OpenSearch 2.19', async () => {
    const res = await httpsGet(`${pd.es}/`, { ca, auth: `pintrace:${password}` });
    expect(res.status).toBe(200);
    const version = (JSON.parse(res.body) as { version: { distribution: string; number: string } }).version;
    expect(version.distribution).toBe('opensearch');
    expect(version.number).toMatch(/^2\.19\./);
  });

  it('zipkin-server reaches the store through TLS with the same credentials: /health UP', async () => {
    const res = await fetch(`${pd.zipkin}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; zipkin: { details: Record<string, { status: string }> } };
    expect(body.status).toBe('UP');
    expect(Object.keys(body.zipkin.details).join()).toContain(`https://127.0.0.1:${pd.config.esPort}`);
  });

  it('the API key is let through; a wrong password or key gets 401', async () => {
    expect((await httpsGet(`${pd.es}/_cluster/health`, { ca, headers: { authorization: `ApiKey ${apiKey}` } })).status).toBe(200);
    expect((await httpsGet(`${pd.es}/`, { ca, auth: `pintrace:${password}x` })).status).toBe(401);
    expect((await httpsGet(`${pd.es}/`, { ca })).status).toBe(401);
    const wrongKey = Buffer.from('id:wrong').toString('base64');
    expect((await httpsGet(`${pd.es}/`, { ca, headers: { authorization: `ApiKey ${wrongKey}` } })).status).toBe(401);
  });

  it('without the CA the certificate does not verify; plaintext to the TLS port gets 400', async () => {
    const err = (await httpsGet(`${pd.es}/`, { auth: `pintrace:${password}` }).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    )) as NodeJS.ErrnoException | undefined;
    expect(err?.code).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
    const plain = await fetch(`http://127.0.0.1:${pd.config.esPort}/`, {
      headers: { authorization: `Basic ${Buffer.from(`pintrace:${password}`).toString('base64')}` },
    });
    expect(plain.status).toBe(400);
    // The nodes' own port is not the one clients are given.
    expect(storeHttpPorts(pd.config)).not.toContain(pd.config.esPort);
  });

  it('no secret in the devstack output or any log under its dir', () => {
    const files = logFiles(pd.config.dir);
    expect(files.length).toBeGreaterThan(3);
    for (const secret of [password, apiKey]) {
      expect(out.text()).not.toContain(secret);
      for (const f of files) expect(readFileSync(f, 'utf8').includes(secret), f).toBe(false);
    }
  });
});

describe('devstack --store-nodes 2 --secure --store-security plugin: two OpenSearch nodes secured by the security plugin', () => {
  const pd = privateDevstack('store-plugin-2nodes', BLOCK, ['elasticsearch'], {
    storage: 'opensearch',
    secure: true,
    storeSecurity: 'plugin',
    storeNodes: 2,
    heap: '384m',
  });
  afterAll(() => pd.stop(), 120_000);
  let ca = '';
  let auth = '';

  it('forms one cluster of 2 nodes over TLS; an index with one replica is green', async () => {
    await pd.start();
    const client = await readClientConfig(pd.config.dir);
    ca = readFileSync(String(client.esCaFile), 'utf8');
    auth = `pintrace:${readFileSync(String(client.esPasswordFile), 'utf8').trim()}`;
    const [first, second] = pd.esNodes;
    expect([first, second]).toEqual([`https://127.0.0.1:${pd.config.esPort}`, `https://127.0.0.1:${pd.config.esPort + 1}`]);
    expect(client.es).toBe(first);
    // No API keys in the plugin: no API-key config is offered.
    expect(existsSync(path.join(pd.config.dir, 'client-config.api-key.json'))).toBe(false);
    const nodes = JSON.parse((await httpsGet(`${second}/_cat/nodes?format=json&h=name`, { ca, auth })).body) as { name: string }[];
    expect(nodes.map((n) => n.name).sort()).toEqual(['devstack', 'devstack-2']);
    const created = await httpsRequest('PUT', `${first}/store-2nodes-check`, { ca, auth }, { settings: { number_of_shards: 2, number_of_replicas: 1 } });
    expect([200, 400]).toContain(created.status); // 400: left by an earlier run
    const health = JSON.parse((await httpsGet(`${first}/_cluster/health/store-2nodes-check?wait_for_status=green&timeout=60s`, { ca, auth })).body) as {
      status: string;
      number_of_nodes: number;
      active_shards: number;
    };
    expect(health).toMatchObject({ status: 'green', number_of_nodes: 2, active_shards: 4 });
  });

  it('after a SIGKILL of node 2 the cluster stays up (yellow); up restarts only that node and it is green again', async () => {
    const before = storeProcesses(pd.config);
    expect(before.nodes.map((n) => n.node)).toEqual([1, 2]);
    const [node1, node2] = before.nodes;
    process.kill(node2!.pid, 'SIGKILL');
    while (storeProcesses(pd.config).nodes.length > 1) await new Promise((r) => setTimeout(r, 100));
    // Node 1 is the cluster's only master: without node 2 the cluster still answers, yellow.
    const alone = JSON.parse(
      (await httpsGet(`${pd.es}/_cluster/health/store-2nodes-check?wait_for_nodes=1&wait_for_status=yellow&timeout=60s`, { ca, auth })).body,
    ) as { status: string; number_of_nodes: number };
    expect(alone).toMatchObject({ status: 'yellow', number_of_nodes: 1 });
    await pd.start();
    const after = storeProcesses(pd.config);
    expect(after.nodes.map((n) => n.pid)).toContain(node1!.pid);
    expect(after.nodes.map((n) => n.pid)).not.toContain(node2!.pid);
    expect(after.nodes).toHaveLength(2);
    const health = JSON.parse((await httpsGet(`${pd.es}/_cluster/health/store-2nodes-check?wait_for_status=green&timeout=60s`, { ca, auth })).body) as {
      status: string;
      number_of_nodes: number;
    };
    expect(health).toMatchObject({ status: 'green', number_of_nodes: 2 });
  });

  it('a wrong password gets 401; without the CA or over plaintext there is no answer', async () => {
    expect((await httpsGet(`${pd.es}/`, { ca, auth: `${auth}x` })).status).toBe(401);
    const noCa = await httpsGet(`${pd.es}/`, { auth }).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(noCa).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
    // The plugin closes a plaintext connection without an HTTP answer.
    await expect(fetch(`http://127.0.0.1:${pd.config.esPort}/`)).rejects.toThrow();
  });
});

/** OpenSearch 3.x is compiled for Java 21: the test needs such a JDK, as the devstack does. */
const java21 =
  existsSync('/usr/lib/jvm') &&
  readdirSync('/usr/lib/jvm').some((d) => {
    try {
      return Number(/^JAVA_VERSION="(\d+)/m.exec(readFileSync(path.join('/usr/lib/jvm', d, 'release'), 'utf8'))?.[1]) >= 21;
    } catch {
      return false;
    }
  });

describe.skipIf(!java21)('devstack --storage opensearch3: OpenSearch 3.x on a Java 21+ JDK', () => {
  const pd = privateDevstack('store-os3', BLOCK, ['elasticsearch'], { storage: 'opensearch3', heap: '384m' });
  afterAll(() => pd.stop(), 120_000);

  it('GET / says opensearch 3.x', async () => {
    await pd.start();
    const body = (await (await fetch(`${pd.es}/`)).json()) as { version: { distribution: string; number: string } };
    expect(body.version.distribution).toBe('opensearch');
    expect(body.version.number).toMatch(/^3\./);
  });
});
