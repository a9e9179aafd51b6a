import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCerts, type TestCerts } from '../../test/support/tls-front.js';
import { createEsHttp, readClusterVersion, StorageError, type EsHttpOptions } from '../src/index.js';

// Secrets the tests send; none may appear in an error message, its cause chain or its inspection.
const PASSWORD = 'Pa55-unit-secret';
const API_KEY = Buffer.from('keyid:unit-api-key-secret').toString('base64');
const SECRETS = [PASSWORD, API_KEY, 'unit-api-key-secret', Buffer.from(`zipkin:${PASSWORD}`).toString('base64')];

const ROOT = { name: 'n', version: { number: '2.19.1', distribution: 'opensearch' }, tagline: 'The OpenSearch Project' };

let certs: TestCerts;
const servers: Server[] = [];
const seen: Array<string | undefined> = [];
let plain: string; // http, no auth
let secured: string; // https, basic auth or API key
let mutual: string; // https, client certificate required
let refused: string; // nothing listens
const file = (name: string) => path.join(certs.dir, name);

/** Answers like a store that accepts user zipkin with PASSWORD, or API_KEY. */
function store(auth: boolean) {
  return (req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.headers.authorization);
    const ok =
      !auth ||
      req.headers.authorization === `ApiKey ${API_KEY}` ||
      req.headers.authorization === `Basic ${Buffer.from(`zipkin:${PASSWORD}`).toString('base64')}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? ROOT : { error: 'unauthorized' }));
  };
}

async function listen(server: Server, scheme: string): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  // A CA, a server certificate for 127.0.0.1 signed by it, a client certificate, and an unrelated CA.
  certs = makeTestCerts();
  const tls = { cert: readFileSync(file('server.pem')), key: readFileSync(file('server.key')) };
  plain = await listen(createHttpServer(store(false)), 'http');
  secured = await listen(createHttpsServer(tls, store(true)), 'https');
  mutual = await listen(createHttpsServer({ ...tls, ca: readFileSync(file('ca.pem')), requestCert: true, rejectUnauthorized: true }, store(false)), 'https');
  const spare = createHttpServer();
  const spareUrl = await listen(spare, 'http');
  await new Promise<void>((resolve) => spare.close(() => resolve()));
  servers.pop();
  refused = spareUrl;
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  certs.remove();
});

const errors: unknown[] = [];

/** GET / through a fresh client; the error, if any, is kept for the secret scan. */
async function root(options: EsHttpOptions): Promise<StorageError | 'ok'> {
  const http = createEsHttp(options);
  try {
    await readClusterVersion(http);
    return 'ok';
  } catch (err) {
    errors.push(err);
    if (!(err instanceof StorageError)) throw err;
    return err;
  } finally {
    await http.close();
  }
}

describe('authentication', () => {
  it('sends basic auth, an API key, or the credentials of the URL (taken out of it)', async () => {
    expect(await root({ url: secured, caFile: file('ca.pem'), username: 'zipkin', password: PASSWORD })).toBe('ok');
    expect(await root({ url: secured, caFile: file('ca.pem'), apiKey: API_KEY })).toBe('ok');
    const withUser = secured.replace('https://', `https://zipkin:${encodeURIComponent(PASSWORD)}@`);
    expect(await root({ url: withUser, caFile: file('ca.pem') })).toBe('ok');
    expect(seen.slice(-3)).toEqual([
      `Basic ${Buffer.from(`zipkin:${PASSWORD}`).toString('base64')}`,
      `ApiKey ${API_KEY}`,
      `Basic ${Buffer.from(`zipkin:${PASSWORD}`).toString('base64')}`,
    ]);
  });

  it('fails fast on refused credentials, naming the flags that set them', async () => {
    const wrongPassword = await root({ url: secured, caFile: file('ca.pem'), username: 'zipkin', password: 'wrong' });
    expect(wrongPassword).toMatchObject({ code: 'ES_AUTH_FAILED', retryable: false, status: 401 });
    expect((wrongPassword as Error).message).toMatch(/--es-username and --es-password/);
    const wrongKey = await root({ url: secured, caFile: file('ca.pem'), apiKey: Buffer.from('keyid:nope').toString('base64') });
    expect(wrongKey).toMatchObject({ code: 'ES_AUTH_FAILED', retryable: false });
    expect((wrongKey as Error).message).toMatch(/--es-api-key/);
    const wrongUrl = await root({ url: secured.replace('https://', 'https://zipkin:nope@'), caFile: file('ca.pem') });
    expect((wrongUrl as Error).message).toMatch(/user:password@ in --es/);
    expect((wrongUrl as Error).message).not.toContain('nope');
    const none = await root({ url: secured, caFile: file('ca.pem') });
    expect((none as Error).message).toMatch(/requires authentication/);
  });
});

describe('TLS', () => {
  it('trusts the store through --es-ca-file and presents a client certificate for mutual TLS', async () => {
    expect(await root({ url: mutual, caFile: file('ca.pem'), certFile: file('client.pem'), keyFile: file('client.key') })).toBe('ok');
  });

  it('fails fast on a CA that did not sign the store certificate, naming --es-ca-file', async () => {
    for (const caFile of [file('other-ca.pem'), undefined]) {
      const err = await root({ url: secured, apiKey: API_KEY, ...(caFile ? { caFile } : {}) });
      expect(err).toMatchObject({ code: 'ES_TLS_CERT_UNTRUSTED', retryable: false });
      expect((err as Error).message).toMatch(/--es-ca-file/);
    }
  });

  it('fails fast on https:// to a plain-HTTP port and http:// to a TLS port, naming the scheme of --es', async () => {
    const tlsToPlain = await root({ url: plain.replace('http://', 'https://'), caFile: file('ca.pem') });
    expect(tlsToPlain).toMatchObject({ code: 'ES_TLS_UNEXPECTED', retryable: false });
    expect((tlsToPlain as Error).message).toMatch(/use http:\/\/ in --es/);
    // Node's TLS server, like Elasticsearch's, closes the connection on plain text.
    const plainToTls = await root({ url: secured.replace('https://', 'http://'), apiKey: API_KEY });
    expect(plainToTls).toMatchObject({ code: 'ES_TLS_EXPECTED', retryable: false });
    expect((plainToTls as Error).message).toMatch(/use https:\/\/ in --es/);
  });

  it('fails fast when the store wants a client certificate, naming --es-cert-file and --es-key-file', async () => {
    const err = await root({ url: mutual, caFile: file('ca.pem') });
    expect(err).toMatchObject({ code: 'ES_TLS_CLIENT_CERT', retryable: false });
    expect((err as Error).message).toMatch(/--es-cert-file and --es-key-file/);
  });

  it('refuses unusable TLS files at construction, without quoting them', () => {
    expect(() => createEsHttp({ url: secured, caFile: file('missing.pem') })).toThrow(/--es-ca-file: cannot read/);
    expect(() => createEsHttp({ url: secured, certFile: file('client.pem'), keyFile: file('server.key') })).toThrow(/key does not match/);
    expect(() => createEsHttp({ url: secured, certFile: file('client.pem') })).toThrow(/go together/);
  });
});

describe('a store that is down', () => {
  it('is retryable (ES_UNAVAILABLE), and a request moves on to the next node', async () => {
    expect(await root({ url: refused })).toMatchObject({ code: 'ES_UNAVAILABLE', retryable: true });
    expect(await root({ url: 'http://no-such-host.invalid:9200' })).toMatchObject({ code: 'ES_UNAVAILABLE', retryable: true });
    expect(await root({ url: `${refused},${plain}` })).toBe('ok');
  });
});

describe('a store that accepts connections but never answers', () => {
  it('is retryable and given up on within the request timeout', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent = (await import('node:net')).createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const started = Date.now();
    const err = await root({ url, requestTimeoutMs: 300 });
    expect(err).toMatchObject({ code: 'ES_UNAVAILABLE', retryable: true });
    expect(Date.now() - started).toBeLessThan(3000);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});

describe('version and product', () => {
  it('fails fast on a server that is not a store, naming --es', async () => {
    const http = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>hello</html>');
    });
    const url = await listen(http, 'http');
    const err = await root({ url });
    expect(err).toMatchObject({ code: 'ES_VERSION_UNREADABLE', retryable: false });
    expect((err as Error).message).toMatch(/not like Elasticsearch or OpenSearch.*--es/);
  });
});

describe('secrets', () => {
  it('appear in no error message, cause or inspection of the errors above', () => {
    expect(errors.length).toBeGreaterThanOrEqual(10);
    for (const err of errors) {
      const text = `${String((err as Error).message)}\n${inspect(err, { depth: 8 })}\n${JSON.stringify(err)}`;
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    }
  });
});
