/**
 * The one place that talks HTTP to the store (Elasticsearch or OpenSearch). Everything else in
 * this package sees only {@link EsHttp}, so the client can be swapped and tests can use a fake.
 *
 * Built on undici (Node's own HTTP client, maintained by the Node.js project) rather than a
 * vendor client: `@elastic/elasticsearch` refuses OpenSearch (product check), its transport and
 * the OpenSearch client both reduce a TLS failure to a message string, and what we need is small
 * (one request shape, several nodes, TLS files, an Authorization header) and must keep Node's error
 * codes, which decide whether to wait for the store or fail fast (network-errors.ts). Nothing
 * retries here: the writers own retrying (including 429).
 *
 * Secrets: credentials in a URL are taken out of it at construction; from then on only the
 * origin (scheme://host:port) appears in errors, and the Authorization header is never quoted.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { StoreConnection } from '@pintrace/runtime';
import { Pool, type Dispatcher } from 'undici';
import { StorageError } from './errors.js';
import { classifyNetworkError, closedWithoutAnswer, DEADLINE } from './network-errors.js';
import { probeTls } from './tls-probe.js';

export interface EsRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** Path with optional query string, e.g. "/_bulk?refresh=wait_for". */
  path: string;
  /** JSON or NDJSON text (sent as is, UTF-8). */
  body?: string | Buffer;
  /** Send as application/x-ndjson (bulk). Default application/json. */
  ndjson?: boolean;
}

export interface EsResponse {
  status: number;
  /** Parsed JSON when the response was JSON, else text. */
  body: unknown;
}

/** How requests authenticate, for messages that name the setting to change. */
export type EsAuthMethod = 'none' | 'basic' | 'url' | 'api-key';

/**
 * Minimal HTTP to the store. Any HTTP status resolves; network and TLS failures reject with a
 * StorageError (ES_UNAVAILABLE when retrying may help, an ES_TLS_* code when a setting is wrong).
 */
export interface EsHttp {
  request(req: EsRequest): Promise<EsResponse>;
  close(): Promise<void>;
  /** How this client authenticates; absent on test doubles. */
  readonly authMethod?: EsAuthMethod;
  /** The nodes' origins, without credentials: safe to log. */
  readonly origins?: readonly string[];
}

/** How to reach the store (runtime's StoreConnection), with one URL or several, and a request timeout. */
export interface EsHttpOptions extends Omit<StoreConnection, 'url'> {
  /** One or more base URLs, e.g. "http://127.0.0.1:9200" (zipkin's ES_HOSTS); may carry user:password@. */
  url: string | string[];
  /** Per-request timeout (ES_TIMEOUT). Default 10000 ms. */
  requestTimeoutMs?: number;
}

interface Node {
  /** scheme://host:port, no credentials. */
  origin: string;
  /** Path the store is mounted under behind a proxy ("" or "/es"). */
  prefix: string;
  hostname: string;
  port: number;
  authorization: string | undefined;
  pool: Pool;
  /** When a "does this port speak TLS?" probe may run again. */
  nextTlsProbe: number;
}

interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new StorageError('STORAGE_CONFIG_INVALID', `--${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function tlsFiles(options: EsHttpOptions): TlsFiles {
  const files: TlsFiles = {};
  if (options.caFile !== undefined) files.ca = readPem(options.caFile, 'es-ca-file');
  if (options.certFile !== undefined) files.cert = readPem(options.certFile, 'es-cert-file');
  if (options.keyFile !== undefined) files.key = readPem(options.keyFile, 'es-key-file');
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new StorageError('STORAGE_CONFIG_INVALID', '--es-cert-file and --es-key-file go together (mutual TLS): give both or neither');
  }
  try {
    // Fails now, not at the first connection, on a PEM that is not one or a key that does not
    // match its certificate. The OpenSSL reason names no file content.
    createSecureContext(files);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new StorageError(
      'STORAGE_CONFIG_INVALID',
      `--es-ca-file / --es-cert-file / --es-key-file are not usable PEM files or the key does not match the certificate (${code})`,
    );
  }
  return files;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

function parseNodes(options: EsHttpOptions): Array<Omit<Node, 'pool' | 'nextTlsProbe'>> {
  const urls = (Array.isArray(options.url) ? options.url : options.url.split(',')).map((u) => u.trim()).filter((u) => u !== '');
  if (urls.length === 0) throw new StorageError('STORAGE_CONFIG_INVALID', '--es needs at least one http(s)://host:port URL');
  return urls.map((raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      url = new URL('invalid:');
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
      // The raw text may hold a password: say what is wrong without echoing it.
      throw new StorageError(
        'STORAGE_CONFIG_INVALID',
        `--es URLs must look like http(s)://host:port, one of them does not (${urls.indexOf(raw) + 1} of ${urls.length})`,
      );
    }
    let authorization: string | undefined;
    if (url.username !== '' || url.password !== '') {
      authorization = basic(decodeURIComponent(url.username), decodeURIComponent(url.password));
    } else if (options.apiKey !== undefined) {
      authorization = `ApiKey ${options.apiKey}`;
    } else if (options.username !== undefined) {
      authorization = basic(options.username, options.password ?? '');
    }
    const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return {
      origin: `${url.protocol}//${url.host}`,
      prefix: url.pathname.replace(/\/+$/, ''),
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port,
      authorization,
    };
  });
}

function authMethodOf(options: EsHttpOptions, nodes: ReadonlyArray<{ authorization: string | undefined }>, urls: string): EsAuthMethod {
  if (/\/\/[^/@]*@/.test(urls)) return 'url';
  if (options.apiKey !== undefined) return 'api-key';
  if (options.username !== undefined) return 'basic';
  return nodes.some((n) => n.authorization !== undefined) ? 'basic' : 'none';
}

/** Creates an {@link EsHttp} over undici pools, one per node, used round-robin. */
export function createEsHttp(options: EsHttpOptions): EsHttp {
  const parsed = parseNodes(options);
  const files = tlsFiles(options);
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const poolFor = (origin: string): Pool =>
    new Pool(origin, {
      connectTimeout: Math.min(timeoutMs, 10_000),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      // Hostname verification stays on (Node's default); only the trust roots and our identity change.
      ...(origin.startsWith('https:') && (files.ca ?? files.cert) !== undefined ? { connect: { ...files } } : {}),
    });
  const nodes: Node[] = parsed.map((n) => ({ ...n, nextTlsProbe: 0, pool: poolFor(n.origin) }));
  const urlText = Array.isArray(options.url) ? options.url.join(',') : options.url;
  let next = 0;
  let closed = false;

  async function once(node: Node, req: EsRequest): Promise<EsResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (req.body !== undefined) headers['content-type'] = req.ndjson ? 'application/x-ndjson' : 'application/json; charset=utf-8';
    if (node.authorization !== undefined) headers.authorization = node.authorization;
    // Our own deadline, on a ref'd timer, raced against undici's answer: undici's timeouts are
    // unref'd, and a request whose TLS peer dropped the connection in mid-handshake can stay
    // pending for good with no handle left (seen with a server refusing a missing client
    // certificate under TLS 1.3; aborting it did not settle it either). That let a process with
    // nothing else to do exit 0 in the middle of its start-up. Past the deadline the node's pool
    // is replaced, so a stuck connection cannot hold later requests.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const stuck = node.pool;
        node.pool = poolFor(node.origin);
        void stuck.destroy().catch(() => {});
        reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: DEADLINE }));
      }, timeoutMs + 500);
    });
    let text: string;
    let res: Dispatcher.ResponseData;
    try {
      res = await Promise.race([node.pool.request({ method: req.method, path: node.prefix + req.path, headers, body: req.body ?? null }), deadline]);
      text = await Promise.race([res.body.text(), deadline]);
    } finally {
      clearTimeout(timer);
    }
    const type = res.headers['content-type'];
    const json = (Array.isArray(type) ? type.join(';') : (type ?? '')).includes('json');
    let body: unknown = text;
    if (json && text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: res.statusCode, body };
  }

  async function diagnose(node: Node, err: unknown, what: string): Promise<StorageError> {
    if (closedWithoutAnswer(err) && Date.now() >= node.nextTlsProbe) {
      node.nextTlsProbe = Date.now() + 30_000;
      const https = node.origin.startsWith('https:');
      const heard = await probeTls(node.hostname, node.port, https && files.cert !== undefined ? { cert: files.cert, key: files.key! } : {});
      if (!https && heard !== 'not-tls') {
        return new StorageError(
          'ES_TLS_EXPECTED',
          `${node.origin} speaks TLS and closed the plain-HTTP connection: use https:// in --es (with --es-ca-file if its CA is not a system CA)`,
          { cause: err },
        );
      }
      if (https && heard === 'client-cert-required') {
        return new StorageError(
          'ES_TLS_CLIENT_CERT',
          `${node.origin} closed the connection for want of a client certificate it trusts: set --es-cert-file and --es-key-file${files.cert !== undefined ? ' (it refused the one given)' : ''}`,
          { cause: err },
        );
      }
    }
    return classifyNetworkError(err, node.origin, what);
  }

  return {
    authMethod: authMethodOf(options, nodes, urlText),
    origins: nodes.map((n) => n.origin),
    async request(req: EsRequest): Promise<EsResponse> {
      if (closed) throw new StorageError('ES_UNAVAILABLE', 'the store client is closed', { retryable: false });
      const what = `${req.method} ${req.path.split('?')[0]}`;
      let last: StorageError | undefined;
      // A node that cannot be reached hands the request to the next; a TLS or protocol mistake
      // is the same on every node and is reported at once.
      for (let tried = 0; tried < nodes.length; tried++) {
        const node = nodes[next++ % nodes.length]!;
        try {
          return await once(node, req);
        } catch (err) {
          last = await diagnose(node, err, what);
          if (!last.retryable || closed) break;
        }
      }
      throw last!;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // close() waits for requests in flight; a writer shutting down has already stopped waiting
      // for them, so they are cut off after a moment. undici's close() can also stay pending with
      // no handle left (after a TLS peer dropped a connection mid-request), so the timer is ref'd
      // and the wait ends with destroy(): an unref'd timer let the process exit 0 mid-shutdown.
      await Promise.all(
        nodes.map(async (n) => {
          let timer: NodeJS.Timeout | undefined;
          const cutOff = new Promise<void>((resolve) => {
            timer = setTimeout(
              () =>
                void n.pool
                  .destroy()
                  .catch(() => {})
                  .finally(resolve),
              1000,
            );
          });
          await Promise.race([n.pool.close().catch(() => {}), cutOff]);
          clearTimeout(timer);
        }),
      );
    },
  };
}
