import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevCerts, type DevCerts } from '../src/certs.js';

const run = promisify(execFile);

describe('ensureDevCerts', () => {
  let dir: string;
  let certs: DevCerts;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pintrace-certs-'));
    // Two concurrent callers (the Kafka and store launchers of one `up`) get one set.
    const [a, b] = await Promise.all([ensureDevCerts(dir), ensureDevCerts(dir)]);
    expect(a).toEqual(b);
    certs = a;
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('signs the server and client certificates with the CA, server SAN 127.0.0.1 and localhost', async () => {
    await run('openssl', ['verify', '-CAfile', certs.caFile, certs.serverCertFile, certs.clientCertFile]);
    const { stdout } = await run('openssl', ['x509', '-in', certs.serverCertFile, '-noout', '-ext', 'subjectAltName']);
    expect(stdout).toContain('IP Address:127.0.0.1');
    expect(stdout).toContain('DNS:localhost');
  });

  it('keeps keys and passwords private to the owner', () => {
    for (const f of [certs.serverKeyFile, certs.clientKeyFile, certs.serverKeystorePasswordFile, certs.truststorePasswordFile]) {
      expect(statSync(f).mode & 0o077, f).toBe(0);
    }
  });

  it('makes keystores that open with the passwords in secrets/', async () => {
    const ks = await run('keytool', [
      '-list',
      '-keystore',
      certs.serverKeystoreFile,
      '-storetype',
      'PKCS12',
      '-storepass:file',
      certs.serverKeystorePasswordFile,
    ]);
    expect(ks.stdout).toMatch(/server, .*PrivateKeyEntry/);
    const ts = await run('keytool', ['-list', '-keystore', certs.truststoreFile, '-storetype', 'PKCS12', '-storepass:file', certs.truststorePasswordFile]);
    expect(ts.stdout).toMatch(/devstack-ca, .*trustedCertEntry/);
  });

  it('serves TLS that a client trusting only ca.pem verifies for 127.0.0.1, with the client certificate accepted', async () => {
    const server = tls.createServer(
      {
        cert: readFileSync(certs.serverChainFile),
        key: readFileSync(certs.serverKeyFile),
        ca: readFileSync(certs.caFile),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (s) => s.end(`hello ${s.getPeerCertificate().subject.CN}`),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const got = await new Promise<string>((resolve, reject) => {
        const c = tls.connect({
          host: '127.0.0.1',
          port,
          ca: readFileSync(certs.caFile),
          cert: readFileSync(certs.clientCertFile),
          key: readFileSync(certs.clientKeyFile),
        });
        let text = '';
        c.on('data', (d) => (text += d));
        c.on('end', () => resolve(text));
        c.on('error', reject);
      });
      expect(got).toBe('hello pintrace-client');
      // The system CAs do not know the devstack's CA: trust must come from ca.pem.
      await expect(
        new Promise((resolve, reject) => {
          const c = tls.connect({ host: '127.0.0.1', port }, () => resolve('connected'));
          c.on('error', reject);
        }),
      ).rejects.toThrow(/self.signed|unable to (get|verify)/i);
    } finally {
      server.close();
    }
  });

  it('reuses the set on a later call', async () => {
    const before = readFileSync(certs.caFile, 'utf8');
    const again = await ensureDevCerts(dir);
    expect(readFileSync(again.caFile, 'utf8')).toBe(before);
  });
});
