/**
 * The devstack's own certificate authority and certificates, made once per devstack dir with
 * openssl (and keytool for the truststore a JVM reads), so the secured servers and their clients
 * share one trust root:
 *
 *   <dir>/certs/ca.pem                 CA certificate: what clients pass as --kafka-ca-file / --es-ca-file
 *   <dir>/certs/ca-key.pem             CA key (stays here; signs the certificates below)
 *   <dir>/certs/server.pem             server certificate, SAN IP:127.0.0.1, DNS:localhost
 *   <dir>/certs/server-key.pem         its key (PKCS#8, unencrypted, mode 0600)
 *   <dir>/certs/server-chain.pem       server.pem + ca.pem (what TLS fronts such as nginx serve)
 *   <dir>/certs/server.p12             PKCS12 keystore of the server key and chain (Kafka, JVMs)
 *   <dir>/certs/truststore.p12         PKCS12 truststore holding the CA (JVM clients, e.g. zipkin-server)
 *   <dir>/certs/client.pem             client certificate (CN pintrace-client) for mutual TLS tests
 *   <dir>/certs/client-key.pem         its key
 *   <dir>/secrets/server-keystore.password, <dir>/secrets/truststore.password
 *
 * The server certificate is also good for client authentication, because brokers dial each other
 * (inter-broker and controller listeners) with the same keystore.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { withLock } from './lock.js';
import { ensureSecret } from './secrets.js';

const run = promisify(execFile);

export interface DevCerts {
  /** <dir>/certs */
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** Server certificate followed by the CA certificate. */
  serverChainFile: string;
  /** PKCS12 keystore (alias `server`) of the server key and chain. */
  serverKeystoreFile: string;
  serverKeystorePasswordFile: string;
  /** PKCS12 truststore (alias `devstack-ca`) of the CA certificate. */
  truststoreFile: string;
  truststorePasswordFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

export class CertificateError extends Error {
  readonly code = 'PINTRACE_DEVSTACK_CERTS';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertificateError';
  }
}

/** Ten years: a devstack's certificates must not expire under a long-lived checkout. */
const DAYS = '3650';
/** Written last: its presence means every file above is complete. */
const DONE = 'complete';

function certsOf(dir: string): DevCerts {
  const c = path.join(dir, 'certs');
  const s = path.join(dir, 'secrets');
  return {
    dir: c,
    caFile: path.join(c, 'ca.pem'),
    serverCertFile: path.join(c, 'server.pem'),
    serverKeyFile: path.join(c, 'server-key.pem'),
    serverChainFile: path.join(c, 'server-chain.pem'),
    serverKeystoreFile: path.join(c, 'server.p12'),
    serverKeystorePasswordFile: path.join(s, 'server-keystore.password'),
    truststoreFile: path.join(c, 'truststore.p12'),
    truststorePasswordFile: path.join(s, 'truststore.password'),
    clientCertFile: path.join(c, 'client.pem'),
    clientKeyFile: path.join(c, 'client-key.pem'),
  };
}

async function tool(cmd: string, args: string[], cwd: string): Promise<void> {
  try {
    await run(cmd, args, { cwd, timeout: 60_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new CertificateError(
        `${cmd} is required to make the devstack's certificates (found no ${cmd} on PATH). ` +
          (cmd === 'openssl' ? 'Install it with: apt-get install -y openssl' : 'Install a JDK: apt-get install -y openjdk-17-jdk-headless'),
      );
    }
    // Passwords only ever travel as file: arguments, so the arguments and stderr are safe to show.
    throw new CertificateError(`${cmd} ${args[0]} failed while making the devstack's certificates: ${(e.stderr ?? e.message).trim().slice(-800)}`, {
      cause: err,
    });
  }
}

const serial = () =>
  `0x${randomBytes(16)
    .toString('hex')
    .replace(/^[89a-f]/, '1')}`;

/** Makes every file into `work` (a fresh directory); the caller moves it into place. */
async function makeAll(work: string, keystorePass: string, truststorePass: string): Promise<void> {
  const openssl = (...args: string[]) => tool('openssl', args, work);
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
    '-days',
    DAYS,
    '-subj',
    '/O=Pintrace-TS devstack/CN=Pintrace devstack CA',
    '-set_serial',
    serial(),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const leaf = async (name: string, subject: string, ext: string[]) => {
    await writeFile(path.join(work, `${name}.ext`), ext.join('\n') + '\n');
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', subject);
    await openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-set_serial',
      serial(),
      '-days',
      DAYS,
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
    await rm(path.join(work, `${name}.csr`));
    await rm(path.join(work, `${name}.ext`));
  };
  await leaf('server', '/O=Pintrace-TS devstack/CN=localhost', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth,clientAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  await leaf('client', '/O=Pintrace-TS devstack/CN=pintrace-client', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=clientAuth',
  ]);
  await writeFile(
    path.join(work, 'server-chain.pem'),
    (await readFile(path.join(work, 'server.pem'), 'utf8')) + (await readFile(path.join(work, 'ca.pem'), 'utf8')),
  );
  await openssl(
    'pkcs12',
    '-export',
    '-in',
    'server.pem',
    '-inkey',
    'server-key.pem',
    '-certfile',
    'ca.pem',
    '-name',
    'server',
    '-out',
    'server.p12',
    '-passout',
    `file:${keystorePass}`,
  );
  // A trust-only PKCS12 made by openssl lacks the attribute Java needs to treat the entry as a
  // trusted certificate; keytool writes it properly.
  await tool(
    'keytool',
    [
      '-importcert',
      '-noprompt',
      '-alias',
      'devstack-ca',
      '-file',
      'ca.pem',
      '-keystore',
      'truststore.p12',
      '-storetype',
      'PKCS12',
      '-storepass:file',
      truststorePass,
    ],
    work,
  );
  for (const key of ['ca-key.pem', 'server-key.pem', 'client-key.pem', 'server.p12']) await chmod(path.join(work, key), 0o600);
  await writeFile(path.join(work, DONE), new Date().toISOString() + '\n');
}

const inProcess = new Map<string, Promise<DevCerts>>();

/**
 * The devstack's certificates for `dir` (absolute), made on first use and reused afterwards.
 * Safe to call concurrently from several launchers and processes.
 */
export function ensureDevCerts(dir: string): Promise<DevCerts> {
  let p = inProcess.get(dir);
  if (!p) {
    p = make(dir);
    inProcess.set(dir, p);
    p.catch(() => inProcess.delete(dir));
  }
  return p;
}

async function make(dir: string): Promise<DevCerts> {
  const certs = certsOf(dir);
  if (existsSync(path.join(certs.dir, DONE))) return certs;
  await mkdir(dir, { recursive: true });
  return withLock(path.join(dir, 'certs.lock'), async () => {
    if (existsSync(path.join(certs.dir, DONE))) return certs;
    const keystorePass = await ensureSecret(dir, path.basename(certs.serverKeystorePasswordFile));
    const truststorePass = await ensureSecret(dir, path.basename(certs.truststorePasswordFile));
    const work = path.join(dir, `certs.tmp-${process.pid}`);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true, mode: 0o700 });
    try {
      await makeAll(work, keystorePass, truststorePass);
      // A half-made set from an interrupted run has no DONE file: replace it whole.
      await rm(certs.dir, { recursive: true, force: true });
      await rename(work, certs.dir);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return certs;
  });
}
