/**
 * The secured store's front (`--secure`): nginx from Debian terminates TLS on --es-port with the
 * devstack CA's server certificate and lets a request through to the store's nodes (on internal
 * loopback ports, see storeHttpPorts) only with
 *
 *   Authorization: Basic base64(pintrace:<password>)   checked against an htpasswd file, or
 *   Authorization: ApiKey <key>                         the API key, base64 "id:secret" as Elastic hands out.
 *
 * A wrong or missing credential gets 401, plaintext HTTP to the port gets nginx's 400. The
 * security plugins of the stores are not used: Elasticsearch's x-pack is not on Maven Central, and
 * the OpenSearch security plugin has no Elasticsearch-style API keys (see devstack/README.md).
 *
 * Files (secrets are made once per dir, mode 0600, never printed):
 *   <dir>/secrets/store-password          the password of user `pintrace`
 *   <dir>/secrets/store-api-key           the API key, as sent after "ApiKey "
 *   <dir>/secrets/store-htpasswd          derived from store-password ({SSHA}), read by nginx
 *   <dir>/secrets/store-api-key.nginx     derived from store-api-key, included by nginx.conf
 *   <dir>/<store>/tls-front/nginx.conf    the rest of nginx's config (no secrets)
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureDevCerts } from '../certs.js';
import type { DevstackConfig } from '../options.js';
import type { ProbeResult } from '../probes.js';
import { markerToken } from '../process.js';
import { ensureSecret, readSecret, secretFile, secretsDir } from '../secrets.js';
import type { ServerLaunch } from './server.js';

const run = promisify(execFile);

/** The basic-auth user of the secured store (a name, not a secret). */
export const STORE_USERNAME = 'pintrace';

export interface StoreSecrets {
  username: string;
  passwordFile: string;
  apiKeyFile: string;
  caFile: string;
}

/** Exclusive create, as ensureSecret does, but in the shape Elastic gives API keys: base64("id:secret"). */
async function ensureApiKey(dir: string): Promise<string> {
  await ensureSecret(dir, 'store-password'); // makes <dir>/secrets with its mode
  const file = secretFile(dir, 'store-api-key');
  const key = Buffer.from(`${randomBytes(10).toString('base64url')}:${randomBytes(16).toString('base64url')}`).toString('base64');
  try {
    await writeFile(file, key + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return file;
}

/** The secured store's credential files and CA, made on first use. */
export async function ensureStoreSecrets(dir: string): Promise<StoreSecrets> {
  const passwordFile = await ensureSecret(dir, 'store-password');
  const apiKeyFile = await ensureApiKey(dir);
  const certs = await ensureDevCerts(dir);
  return { username: STORE_USERNAME, passwordFile, apiKeyFile, caFile: certs.caFile };
}

/** An htpasswd line nginx checks without any extra tool: {SSHA} is SHA-1 of password+salt, then the salt. */
function htpasswdLine(user: string, password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `${user}:{SSHA}${Buffer.concat([digest, salt]).toString('base64')}\n`;
}

async function nginxBinary(): Promise<string> {
  for (const candidate of ['/usr/sbin/nginx', 'nginx']) {
    try {
      await run(candidate, ['-v'], { timeout: 10_000 });
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return candidate;
    }
  }
  throw new Error('--secure puts the store behind nginx, and no nginx was found. Install it with: apt-get install -y nginx-light');
}

/** Writes nginx's config and the derived secret files; returns the launch of nginx (master in the foreground). */
export async function prepareTlsFront(config: DevstackConfig, storeHome: string, nodePorts: number[], name: string): Promise<ServerLaunch> {
  const nginx = await nginxBinary();
  const secrets = await ensureStoreSecrets(config.dir);
  const certs = await ensureDevCerts(config.dir);
  const home = path.join(storeHome, 'tls-front');
  for (const d of ['tmp', 'logs']) await mkdir(path.join(home, d), { recursive: true });
  const htpasswd = secretFile(config.dir, 'store-htpasswd');
  await writeFile(htpasswd, htpasswdLine(secrets.username, await readSecret(secrets.passwordFile)), { mode: 0o600 });
  await chmod(htpasswd, 0o600);
  const apiKeyMap = secretFile(config.dir, 'store-api-key.nginx');
  await writeFile(
    apiKeyMap,
    // A map, not an if on a literal, so the key stays out of nginx.conf; anything else is 0.
    `map $http_authorization $pintrace_api_key_ok {\n  default 0;\n  "ApiKey ${await readSecret(secrets.apiKeyFile)}" 1;\n}\n`,
    { mode: 0o600 },
  );
  await chmod(apiKeyMap, 0o600);
  const proxy = [
    'proxy_pass http://store;',
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    // The nodes need no credentials; never hand them on.
    'proxy_set_header Authorization "";',
    'proxy_request_buffering off;',
    'proxy_buffering off;',
    'proxy_read_timeout 300s;',
  ];
  const conf = [
    // Workers read the htpasswd file (mode 0600) per request: they must run as its owner.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'worker_processes 1;',
    `error_log ${path.join(home, 'logs', 'error.log')} warn;`,
    `pid ${path.join(home, 'nginx.pid')};`,
    'events { worker_connections 1024; }',
    'http {',
    `  access_log ${path.join(home, 'logs', 'access.log')};`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${path.join(home, 'tmp', t)};`),
    // Bulk requests of the collector and zipkin-server can be large.
    '  client_max_body_size 0;',
    // The API key line is longer than the default bucket holds.
    '  map_hash_bucket_size 256;',
    `  include ${apiKeyMap};`,
    '  upstream store {',
    ...nodePorts.map((p) => `    server 127.0.0.1:${p} max_fails=0;`),
    '    keepalive 16;',
    '  }',
    '  server {',
    `    listen 127.0.0.1:${config.esPort} ssl;`,
    `    ssl_certificate ${certs.serverChainFile};`,
    `    ssl_certificate_key ${certs.serverKeyFile};`,
    '    ssl_protocols TLSv1.2 TLSv1.3;',
    '    location / {',
    // A valid API key skips basic auth: 418 is only an internal jump to @api_key, never sent.
    '      error_page 418 = @api_key;',
    '      if ($pintrace_api_key_ok) { return 418; }',
    '      auth_basic "pintrace devstack store";',
    `      auth_basic_user_file ${htpasswd};`,
    ...proxy.map((l) => `      ${l}`),
    '    }',
    '    location @api_key {',
    ...proxy.map((l) => `      ${l}`),
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
  const confFile = path.join(home, 'nginx.conf');
  await writeFile(confFile, conf);
  return {
    command: nginx,
    // nginx rewrites its command line ("nginx: master process ..."), so it carries the devstack
    // marker as a token inside -g, where `down` and `status` find it.
    args: [
      '-p',
      home,
      '-c',
      confFile,
      '-e',
      path.join(home, 'logs', 'error.log'),
      '-g',
      `daemon off; env PINTRACE_DEVSTACK_MARKER=${markerToken(config.dir, name)};`,
    ],
    cwd: home,
    logFile: path.join(home, 'console.log'),
  };
}

/** GET over TLS with the devstack CA and the store's password: what every client of the secured store does. */
export async function tlsProbe(
  config: DevstackConfig,
  port: number,
  urlPath: string,
  check: (status: number, body: string) => ProbeResult,
): Promise<ProbeResult> {
  let ca: string;
  let password: string;
  try {
    // Read, never made here: a probe (and `status`) must not create certificates.
    ca = await readFile(path.join(config.dir, 'certs', 'ca.pem'), 'utf8');
    password = await readSecret(secretFile(config.dir, 'store-password'));
  } catch {
    return { ready: false, detail: `no credentials yet in ${secretsDir(config.dir)}` };
  }
  return new Promise((resolve) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        ca,
        auth: `${STORE_USERNAME}:${password}`,
        timeout: 2000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(check(res.statusCode ?? 0, body)));
        res.on('error', (err) => resolve({ ready: false, detail: `TLS :${port}: ${(err as NodeJS.ErrnoException).code ?? err.message}` }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ ready: false, detail: err.code === 'ECONNREFUSED' ? `TLS :${port}: port not open yet` : `TLS :${port}: ${err.code ?? err.message}` }),
    );
  });
}
