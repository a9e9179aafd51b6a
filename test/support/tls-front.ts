/**
 * A secured store for tests that need one beside the shared devstack: a real TLS server (Node's
 * TLS stack, certificates made by openssl from a throwaway CA) with basic auth and Elasticsearch-
 * style API keys, proxying every request it lets through to a real store (the devstack's). Like
 * Elasticsearch, it closes the connection on plain text; wrong or missing credentials get 401.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { selfSignedCert } from './self-signed.js';

export interface TestCerts {
  dir: string;
  /** CA that signed server.pem and client.pem. */
  ca: string;
  /** A CA that signed nothing here (the wrong --es-ca-file). */
  otherCa: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  remove(): void;
}

/** A CA, a server certificate for 127.0.0.1 and localhost, a client certificate, another CA. */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pintrace-certs-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  selfSignedCert(dir, 'ca', '/CN=pintrace-test-ca');
  selfSignedCert(dir, 'other-ca', '/CN=other-ca');
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, extra] of [
    ['server', ['-extfile', 'san.ext']],
    ['client', []],
  ] as const) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', ...extra);
  }
  const f = (name: string) => path.join(dir, name);
  return {
    dir,
    ca: f('ca.pem'),
    otherCa: f('other-ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsFrontOptions {
  /** The real store behind, e.g. http://127.0.0.1:9200. */
  target: string;
  certs: TestCerts;
  username: string;
  password: string;
  /** Accepted as `Authorization: ApiKey <apiKey>`. */
  apiKey: string;
  /** Require a client certificate signed by the test CA (then no credentials are asked). */
  mutualTls?: boolean;
  /** Listen port; 0 picks one. */
  port?: number;
}

export interface TlsFront {
  url: string;
  close(): Promise<void>;
}

export async function startTlsFront(options: TlsFrontOptions): Promise<TlsFront> {
  const basic = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const server: Server = createServer(
    {
      cert: readFileSync(options.certs.serverCert),
      key: readFileSync(options.certs.serverKey),
      ...(options.mutualTls ? { ca: readFileSync(options.certs.ca), requestCert: true, rejectUnauthorized: true } : {}),
    },
    (req, res) => {
      const auth = req.headers.authorization;
      if (!options.mutualTls && auth !== basic && auth !== `ApiKey ${options.apiKey}`) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="store"' });
        res.end('{"error":{"type":"security_exception","reason":"unable to authenticate"},"status":401}');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
        fetch(`${options.target}${req.url ?? '/'}`, {
          method: req.method ?? 'GET',
          headers: { ...(req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {}), accept: 'application/json' },
          ...(body !== undefined && req.method !== 'GET' && req.method !== 'HEAD' ? { body } : {}),
        }).then(
          async (upstream) => {
            const text = Buffer.from(await upstream.arrayBuffer());
            res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
            res.end(text);
          },
          () => {
            res.writeHead(502, { 'content-type': 'text/plain' });
            res.end('bad gateway');
          },
        );
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
