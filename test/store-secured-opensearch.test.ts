/**
 * OpenSearch 2.19 as a first-class store, secured, started by the devstack itself
 * (`devstack up --storage opensearch --secure` in a private dir on ports 33820-33850): the node
 * behind the devstack's nginx TLS front with basic auth and an API key, and a zipkin-server
 * 3.6.1 pointed at it through the same front with the same credentials.
 *
 *  - the zipkin-server oracle: our templates and documents equal the server's (basic auth and API key);
 *  - `pintrace collector --config <dir>/client-config.json` (and the API-key variant) indexes spans;
 *  - each misconfiguration ends the collector non-zero within 30 s, naming the setting;
 *  - `pintrace ui` with the same settings serves the API from it, and refuses to start on a wrong password;
 *  - no secret in any log, /metrics or /health.
 * Run alone: npx vitest run --project integration test/store-secured-opensearch.test.ts
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devstackOptions, down, ensureStoreSecrets, storeClientUrl, storeHttpPorts, up, type StoreSecrets } from '@pintrace/devstack';
import { createAdmin, createProducer, type SpanProducer, type TopicAdmin } from '@pintrace/kafka';
import { resolveConfig } from '@pintrace/runtime';
import { createEsHttp, readClusterVersion, type EsHttp } from '@pintrace/storage';
import { expectFailFast, expectNoSecret, logLine, startCollectorCli, type CollectorRun } from './support/collector-cli.js';
import { startPart } from './support/processes.js';
import { eventually, kafkaBrokers } from './support/servers.js';
import { makeTestCerts, type TestCerts } from './support/tls-front.js';
import { zipkinOracleTests } from './support/zipkin-oracle.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const config = resolveConfig(devstackOptions, {
  env: {},
  flags: {
    dir: path.join(repoRoot, 'var', 'devstack-store-secured-os'),
    storage: 'opensearch',
    secure: true,
    kafkaPort: 33_892,
    kafkaControllerPort: 33_893,
    esPort: 33_820,
    esTransportPort: 33_850,
    zipkinPort: 33_841,
  },
});
const front = storeClientUrl(config);
const nodeUrl = `http://127.0.0.1:${storeHttpPorts(config)[0]}`;
const zipkinUrl = `http://127.0.0.1:${config.zipkinPort}`;
const clientConfig = path.join(config.dir, 'client-config.json');
const apiKeyConfig = path.join(config.dir, 'client-config.api-key.json');

let secrets: StoreSecrets;
let password: string;
let apiKey: string;
let SECRETS: string[];
let other: TestCerts;
let basicHttp: EsHttp;
let keyHttp: EsHttp;
let admin: TopicAdmin;
let producer: SpanProducer;
const runs: CollectorRun[] = [];
let nextMetricsPort = 33_860;

beforeAll(async () => {
  await up(config, ['elasticsearch', 'zipkin'], process.stderr);
  secrets = await ensureStoreSecrets(config.dir);
  password = readFileSync(secrets.passwordFile, 'utf8').trim();
  apiKey = readFileSync(secrets.apiKeyFile, 'utf8').trim();
  SECRETS = [password, apiKey, Buffer.from(`${secrets.username}:${password}`).toString('base64')];
  other = makeTestCerts();
  basicHttp = createEsHttp({ url: front, caFile: secrets.caFile, username: secrets.username, password });
  keyHttp = createEsHttp({ url: front, caFile: secrets.caFile, apiKey });
  admin = createAdmin(kafkaBrokers);
  producer = createProducer({ brokers: kafkaBrokers });
  await producer.connect();
}, 400_000);

afterAll(async () => {
  await Promise.all(runs.map((r) => r.part.kill()));
  for (const r of runs) {
    for (const type of ['span', 'dependency', 'autocomplete', 'red'])
      await basicHttp?.request({ method: 'DELETE', path: `/_template/${r.prefix}-${type}_template` });
  }
  await producer?.disconnect();
  await admin?.close();
  await basicHttp?.close();
  await keyHttp?.close();
  other?.remove();
  // Private servers: stopped, so they do not hold memory beside the shared devstack.
  await down(config, ['zipkin', 'elasticsearch'], process.stderr);
}, 120_000);

async function collector(name: string, storeArgs: string[]): Promise<CollectorRun> {
  const run = await startCollectorCli({ name, storeArgs, metricsPort: nextMetricsPort++, admin, producer });
  runs.push(run);
  return run;
}

describe('OpenSearch 2.19 behind TLS + basic auth: zipkin-server oracle', () => {
  const oracle = zipkinOracleTests(() => ({ http: basicHttp, zipkinUrl, zipkinIndex: 'zipkin' }));
  it('is OpenSearch 2.x, read from GET / through the front with basic auth and with the API key', async () => {
    expect(oracle.version()).toMatchObject({ distribution: 'opensearch', major: 2 });
    expect(await readClusterVersion(keyHttp)).toEqual(oracle.version());
  });
});

describe('OpenSearch 2.19 behind TLS + API key: zipkin-server oracle', () => {
  zipkinOracleTests(() => ({ http: keyHttp, zipkinUrl, zipkinIndex: 'zipkin' }));
});

describe("pintrace collector with the devstack's client settings", () => {
  for (const [name, file] of [
    ['basic-auth', clientConfig],
    ['api-key', apiKeyConfig],
  ] as const) {
    it(`${name}: --config ${path.basename(file)} indexes spans; no secret in logs, /metrics, /health`, async () => {
      const run = await collector(name, ['--config', file]);
      await logLine(run, /"collector running"/);
      await run.send(20);
      await eventually(
        async () => {
          await basicHttp.request({ method: 'POST', path: `/${run.prefix}-span-*/_refresh?allow_no_indices=true&ignore_unavailable=true` });
          const res = await basicHttp.request({
            method: 'POST',
            path: `/${run.prefix}-span-*/_count?allow_no_indices=true&ignore_unavailable=true`,
            body: '{}',
          });
          return (res.body as { count?: number }).count === run.sent() ? true : undefined;
        },
        { what: `${run.sent()} spans in OpenSearch`, timeoutMs: 60_000 },
      );
      const metrics = await (await fetch(`http://127.0.0.1:${run.metricsPort}/metrics`)).text();
      const health = await (await fetch(`http://127.0.0.1:${run.metricsPort}/health`)).text();
      expect(await run.part.stop()).toBe(0);
      expectNoSecret(metrics, SECRETS, '/metrics');
      expectNoSecret(health, SECRETS, '/health');
      expectNoSecret(run.log(), SECRETS, `the log of ${name}`);
      const indices = await basicHttp.request({ method: 'GET', path: `/_cat/indices/${run.prefix}-*?format=json&h=index` });
      for (const { index } of indices.body as Array<{ index: string }>) await basicHttp.request({ method: 'DELETE', path: `/${index}` });
    });
  }
});

describe('misconfigurations against the secured OpenSearch: non-zero exit within 30 s, one message naming the setting', () => {
  const cases: Array<{ name: string; args: () => string[]; code: string; says: RegExp }> = [
    {
      name: 'wrong-password',
      args: () => ['--es', front, '--es-ca-file', secrets.caFile, '--es-username', secrets.username, '--es-password', `${password}x`],
      code: 'ES_AUTH_FAILED',
      says: /--es-username and --es-password/,
    },
    {
      name: 'wrong-api-key',
      args: () => ['--es', front, '--es-ca-file', secrets.caFile, '--es-api-key', Buffer.from('id:not-the-key').toString('base64')],
      code: 'ES_AUTH_FAILED',
      says: /--es-api-key/,
    },
    { name: 'no-credentials', args: () => ['--es', front, '--es-ca-file', secrets.caFile], code: 'ES_AUTH_FAILED', says: /requires authentication/ },
    {
      name: 'wrong-ca',
      args: () => ['--es', front, '--es-ca-file', other.otherCa, '--es-api-key', apiKey],
      code: 'ES_TLS_CERT_UNTRUSTED',
      says: /--es-ca-file/,
    },
    { name: 'no-ca', args: () => ['--es', front, '--es-api-key', apiKey], code: 'ES_TLS_CERT_UNTRUSTED', says: /--es-ca-file/ },
    {
      name: 'http-to-tls',
      args: () => ['--es', front.replace('https://', 'http://'), '--es-api-key', apiKey],
      code: 'ES_TLS_EXPECTED',
      says: /use https:\/\/ in --es/,
    },
    {
      name: 'tls-to-http',
      args: () => ['--es', nodeUrl.replace('http://', 'https://'), '--es-ca-file', secrets.caFile],
      code: 'ES_TLS_UNEXPECTED',
      says: /use http:\/\/ in --es/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const started = Date.now();
      const run = await collector(c.name, c.args());
      // The wrong password is the right one plus a character: it is a secret too.
      await expectFailFast(run, started, c.code, c.says, [...SECRETS, `${password}x`]);
    });
  }
});

describe('pintrace ui against the secured OpenSearch', () => {
  it('serves the API with --config client-config.json; no secret in its log, /metrics or /health', async () => {
    const port = 33_870;
    const ui = startPart('ui-secured-os', ['ui', '--config', clientConfig, '--port', String(port), '--lens-dir', path.join(config.dir, 'lens')]);
    try {
      const services = await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/api/v2/services`).catch(() => undefined);
          return res?.status === 200 ? ((await res.json()) as string[]) : undefined;
        },
        { what: 'the ui-proxy API', timeoutMs: 60_000 },
      );
      // The oracle tests above had zipkin-server write spans of these services under its prefix.
      expect(services).toEqual(expect.arrayContaining(['backend', 'frontend']));
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      const healthText = await health.text();
      expect(health.status, healthText).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expectNoSecret(healthText, SECRETS, 'ui /health');
      expectNoSecret(metrics, SECRETS, 'ui /metrics');
    } finally {
      await ui.stop();
    }
    expectNoSecret(readFileSync(ui.logFile, 'utf8'), SECRETS, 'the ui-proxy log');
  });

  it('refuses to start on a wrong password: non-zero exit within 30 s naming the flags', async () => {
    const started = Date.now();
    const wrong = `${password}x`;
    const ui = startPart('ui-secured-os-wrong', [
      'ui',
      '--es',
      front,
      '--es-ca-file',
      secrets.caFile,
      '--es-username',
      secrets.username,
      '--es-password',
      wrong,
      '--port',
      '33871',
      '--lens-dir',
      path.join(config.dir, 'lens'),
    ]);
    const exit = await Promise.race([ui.exited, new Promise((r) => setTimeout(() => r('still running after 30 s'), 30_000))]);
    const log = readFileSync(ui.logFile, 'utf8');
    if (exit === 'still running after 30 s') await ui.kill();
    expect(exit, log.slice(-2000)).not.toBe('still running after 30 s');
    expect(exit).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(log).toMatch(/401 Unauthorized.*--es-username and --es-password/);
    expectNoSecret(log, [...SECRETS, wrong], 'the ui-proxy log');
  });
});
