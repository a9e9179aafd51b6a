/**
 * How `pintrace collector` opens its store, run as a user would run it (the CLI, a child process):
 *
 *  - a store that answers but can never work with the settings given (wrong password, API key,
 *    URL credentials or CA, no CA, http:// to a TLS port, https:// to a plain port, no client
 *    certificate, not a store, an unsupported version) ends the process non-zero within 30 s,
 *    with one message naming the setting to change;
 *  - right credentials (password file, API key, URL credentials, mutual TLS) work, and the
 *    spans are indexed;
 *  - no secret appears in any log line, /metrics page or error;
 *  - a store that is down is waited for (the process keeps running and says so periodically) and,
 *    once it comes up (PINTRACE_TEST_STORE_DELAY_MS later, default 60 s), the spans are indexed.
 *
 * The secured store is a TLS front with basic auth and API keys (test/support/tls-front.ts) before
 * the devstack's real store; the late store is a private Elasticsearch on port 33920.
 * Run alone: npx vitest run --project integration test/collector-store-startup.test.ts
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devstackOptions, down, up } from '@pintrace/devstack';
import { createAdmin, createProducer, type SpanProducer, type TopicAdmin } from '@pintrace/kafka';
import { resolveConfig } from '@pintrace/runtime';
import { expectFailFast, expectNoSecret, logLine, startCollectorCli, type CollectorRun } from './support/collector-cli.js';
import type { RunningPart } from './support/processes.js';
import { countDocs, deleteIndexPrefix, esUrl, eventually, kafkaBrokers, zipkinUrl } from './support/servers.js';
import { makeTestCerts, startTlsFront, type TestCerts, type TlsFront } from './support/tls-front.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Secrets of this run; none may appear in a log line, a /metrics page or an error.
const PASSWORD = `pw-${randomBytes(9).toString('base64url')}`;
const WRONG_PASSWORD = `wrong-${randomBytes(9).toString('base64url')}`;
const API_KEY = Buffer.from(`keyid:${randomBytes(12).toString('hex')}`).toString('base64');
const WRONG_API_KEY = Buffer.from(`keyid:${randomBytes(12).toString('hex')}`).toString('base64');
const SECRETS = [PASSWORD, WRONG_PASSWORD, API_KEY, WRONG_API_KEY, Buffer.from(`pintrace:${PASSWORD}`).toString('base64')];

let certs: TestCerts;
let front: TlsFront;
let mutual: TlsFront;
let oldStore: Server;
let admin: TopicAdmin;
let producer: SpanProducer;
const parts: RunningPart[] = [];
const prefixes: string[] = [];
let nextMetricsPort = 33_610;

beforeAll(async () => {
  certs = makeTestCerts();
  front = await startTlsFront({ target: esUrl, certs, username: 'pintrace', password: PASSWORD, apiKey: API_KEY, port: 33_601 });
  mutual = await startTlsFront({ target: esUrl, certs, username: 'pintrace', password: PASSWORD, apiKey: API_KEY, mutualTls: true, port: 33_602 });
  // Answers GET / like an Elasticsearch 2.4 node: a store of a version zipkin does not support.
  oldStore = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"name":"old","version":{"number":"2.4.6"},"tagline":"You Know, for Search"}');
  });
  await new Promise<void>((resolve) => oldStore.listen(33_603, '127.0.0.1', resolve));
  writeFileSync(path.join(certs.dir, 'password'), `${PASSWORD}\n`, { mode: 0o600 });
  admin = createAdmin(kafkaBrokers);
  producer = createProducer({ brokers: kafkaBrokers });
  await producer.connect();
});

afterAll(async () => {
  await Promise.all(parts.map((p) => p.kill()));
  await producer?.disconnect();
  await admin?.close();
  await front?.close();
  await mutual?.close();
  await new Promise<void>((resolve) => (oldStore ? oldStore.close(() => resolve()) : resolve()));
  for (const prefix of prefixes) await deleteIndexPrefix(prefix);
  certs?.remove();
});

async function collector(name: string, storeArgs: string[]): Promise<CollectorRun> {
  const run = await startCollectorCli({ name, storeArgs, metricsPort: nextMetricsPort++, admin, producer });
  parts.push(run.part);
  prefixes.push(run.prefix);
  return run;
}

describe('a store that answers but cannot work with the settings: one message, non-zero exit within 30 s', () => {
  const cases: Array<{ name: string; args: () => string[]; code: string; says: RegExp }> = [
    {
      name: 'wrong password',
      args: () => ['--es', front.url, '--es-ca-file', certs.ca, '--es-username', 'pintrace', '--es-password', WRONG_PASSWORD],
      code: 'ES_AUTH_FAILED',
      says: /--es-username and --es-password/,
    },
    {
      name: 'wrong API key',
      args: () => ['--es', front.url, '--es-ca-file', certs.ca, '--es-api-key', WRONG_API_KEY],
      code: 'ES_AUTH_FAILED',
      says: /--es-api-key/,
    },
    {
      name: 'wrong URL credentials',
      args: () => ['--es', front.url.replace('https://', `https://pintrace:${WRONG_PASSWORD}@`), '--es-ca-file', certs.ca],
      code: 'ES_AUTH_FAILED',
      says: /user:password@ in --es/,
    },
    {
      name: 'wrong CA',
      args: () => ['--es', front.url, '--es-ca-file', certs.otherCa, '--es-api-key', API_KEY],
      code: 'ES_TLS_CERT_UNTRUSTED',
      says: /--es-ca-file/,
    },
    { name: 'no CA', args: () => ['--es', front.url, '--es-api-key', API_KEY], code: 'ES_TLS_CERT_UNTRUSTED', says: /--es-ca-file/ },
    {
      name: 'plain HTTP to the TLS port',
      args: () => ['--es', front.url.replace('https://', 'http://'), '--es-api-key', API_KEY],
      code: 'ES_TLS_EXPECTED',
      says: /use https:\/\/ in --es/,
    },
    {
      name: 'TLS to the plain port',
      args: () => ['--es', esUrl.replace('http://', 'https://'), '--es-ca-file', certs.ca],
      code: 'ES_TLS_UNEXPECTED',
      says: /use http:\/\/ in --es/,
    },
    {
      name: 'no client certificate',
      args: () => ['--es', mutual.url, '--es-ca-file', certs.ca],
      code: 'ES_TLS_CLIENT_CERT',
      says: /--es-cert-file and --es-key-file/,
    },
    {
      name: 'not a store (zipkin-server)',
      args: () => ['--es', zipkinUrl],
      code: 'ES_VERSION_UNREADABLE',
      says: /not look like Elasticsearch or OpenSearch.*--es/,
    },
    {
      name: 'unsupported version',
      args: () => ['--es', 'http://127.0.0.1:33603'],
      code: 'ES_VERSION_UNSUPPORTED',
      says: /Elasticsearch versions 5-9\.x are supported, was: 2\.4/,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const started = Date.now();
      const run = await collector(c.name.split(' ').join('-').slice(0, 12), c.args());
      await expectFailFast(run, started, c.code, c.says, SECRETS);
    });
  }
});

describe('right credentials work, and no secret leaks', () => {
  const cases: Array<{ name: string; args: () => string[] }> = [
    {
      name: 'password file',
      args: () => ['--es', front.url, '--es-ca-file', certs.ca, '--es-username', 'pintrace', '--es-password-file', path.join(certs.dir, 'password')],
    },
    { name: 'api key', args: () => ['--es', front.url, '--es-ca-file', certs.ca, '--es-api-key', API_KEY] },
    {
      name: 'url credentials',
      args: () => ['--es', front.url.replace('https://', `https://pintrace:${encodeURIComponent(PASSWORD)}@`), '--es-ca-file', certs.ca],
    },
    { name: 'mutual tls', args: () => ['--es', mutual.url, '--es-ca-file', certs.ca, '--es-cert-file', certs.clientCert, '--es-key-file', certs.clientKey] },
  ];

  for (const c of cases) {
    it(`${c.name}: spans indexed through the secured store; logs and /metrics clean`, async () => {
      const run = await collector(c.name.split(' ').join('-'), c.args());
      await logLine(run, /"collector running"/);
      await run.send(20);
      await eventually(async () => ((await countDocs(`${run.prefix}-span-*`)) === run.sent() ? true : undefined), {
        what: `${run.sent()} spans indexed`,
        timeoutMs: 60_000,
      });
      const metrics = await (await fetch(`http://127.0.0.1:${run.metricsPort}/metrics`)).text();
      const health = await (await fetch(`http://127.0.0.1:${run.metricsPort}/health`)).text();
      expect(await run.part.stop()).toBe(0);
      expectNoSecret(metrics, SECRETS, '/metrics');
      expectNoSecret(health, SECRETS, '/health');
      const log = run.log();
      expectNoSecret(log, SECRETS, `the log of "${c.name}"`);
      // The store is logged, but redacted: no user:password@.
      expect(log).toMatch(/"es":"https:\/\/(\*\*\*@)?127\.0\.0\.1:3360[12]"/);
    });
  }
});

describe('a store that is down', () => {
  const delayMs = Number(process.env.PINTRACE_TEST_STORE_DELAY_MS ?? 60_000);
  const config = resolveConfig(devstackOptions, {
    env: {},
    flags: {
      dir: path.join(repoRoot, 'var', 'devstack-store-startup'),
      kafkaPort: 33_992,
      kafkaControllerPort: 33_993,
      esPort: 33_920,
      esTransportPort: 33_930,
      zipkinPort: 33_941,
    },
  });
  const lateEs = `http://127.0.0.1:${config.esPort}`;

  afterAll(async () => {
    await down(config, ['elasticsearch'], process.stderr);
  });

  it(`is waited for, with a periodic log line, and indexed into once it is up ${delayMs / 1000} s later`, async () => {
    await down(config, ['elasticsearch'], process.stderr);
    const run = await collector('late', ['--es', lateEs]);
    await run.send(30);
    const waitedSince = Date.now();
    await sleep(delayMs);
    expect(run.part.child.exitCode, run.log().slice(-2000)).toBeNull();
    const waits = run
      .log()
      .split('\n')
      .filter((l) => l.includes('waiting for the store at http://127.0.0.1:33920'));
    // Backoff doubles from 0.5 s to at most 10 s: at least one line per 10 s after the first few.
    expect(waits.length).toBeGreaterThanOrEqual(Math.floor(delayMs / 10_000));
    expect(JSON.parse(waits.at(-1)!)).toMatchObject({ code: 'ES_UNAVAILABLE', err: expect.stringMatching(/connection refused/) });
    const health = await fetch(`http://127.0.0.1:${run.metricsPort}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'DOWN', phase: 'starting', waitingFor: expect.stringContaining('127.0.0.1:33920') });

    await up(config, ['elasticsearch'], process.stderr);
    await run.send(10);
    await eventually(
      async () => {
        const indices = `${lateEs}/${run.prefix}-span-*`;
        await fetch(`${indices}/_refresh?allow_no_indices=true&ignore_unavailable=true`, { method: 'POST' }).catch(() => undefined);
        const res = await fetch(`${indices}/_count?allow_no_indices=true&ignore_unavailable=true`, { method: 'POST' }).catch(() => undefined);
        if (res === undefined || !res.ok) return undefined;
        const { count } = (await res.json()) as { count: number };
        return count === run.sent() ? count : undefined;
      },
      { what: `${run.sent()} spans in the late store`, timeoutMs: 120_000 },
    );
    expect(Date.now() - waitedSince).toBeGreaterThanOrEqual(delayMs);
    expect(await run.part.stop()).toBe(0);
  });
});
