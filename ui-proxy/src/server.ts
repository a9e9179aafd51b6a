/**
 * The ui-proxy: Zipkin API v2 under /api/v2, /zipkin/api/v2 (and <base>/api/v2), the Zipkin UI
 * under the base path, /metrics and /health — all on one port, all behind authentication when
 * it is configured. Errors are plain text without stack traces: 400 for bad input (zipkin's
 * messages), 401 without credentials, 404 unknown path or trace, 502/503/504 when Elasticsearch
 * fails, is unreachable or is too slow.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProducer, type SpanProducer } from '@pintrace/kafka';
import { createRegistry, kafkaConnectionOf, redactUrl, storeConnectionOf, type Logger } from '@pintrace/runtime';
import {
  checkStoreHealth,
  createEsHttp,
  ElasticsearchRedWindowStore,
  ElasticsearchSpanStore,
  QueryError,
  readClusterVersion,
  StorageError,
  type EsHttp,
} from '@pintrace/storage';
import type { Registry } from 'prom-client';
import { API_ROUTES, ZipkinApi } from './api.js';
import { assertSafeExposure, challenge, createAuthenticator } from './auth.js';
import { UiProxyError } from './errors.js';
import { HealthPage } from './health-page.js';
import { prepareLens } from './lens-extract.js';
import { LensAssets } from './lens-assets.js';
import { createUiMetrics, type UiMetrics } from './metrics.js';
import type { UiConfig } from './options.js';
import { Params } from './params.js';
import { text, type Reply } from './reply.js';
import { SpanIntake } from './span-intake.js';

const MAX_POST_BYTES = 16 * 1024 * 1024;

export interface UiProxy {
  readonly port: number;
  /** e.g. http://127.0.0.1:9412/zipkin/ */
  readonly url: string;
  readonly registry: Registry;
  shutdown(): Promise<void>;
}

export interface UiProxyDeps {
  log: Logger;
  registry?: Registry;
  /** Test seam: an EsHttp instead of one built from config.es. */
  http?: EsHttp;
}

function errorReply(err: unknown, timeoutMs: number): { reply: Reply; level: 'debug' | 'warn' | 'error' } {
  if (err instanceof QueryError) {
    return err.code === 'QUERY_TIMEOUT'
      ? { reply: text(504, `query timed out after ${timeoutMs} ms`), level: 'warn' }
      : { reply: text(400, err.message), level: 'debug' };
  }
  if (err instanceof StorageError) {
    return err.code === 'ES_UNAVAILABLE'
      ? { reply: text(503, 'Elasticsearch is unavailable'), level: 'warn' }
      : { reply: text(502, `Elasticsearch error: ${err.message}`), level: 'warn' };
  }
  if (err instanceof Error && err.name === 'KafkaClientError') {
    return { reply: text(503, 'Kafka is unavailable: spans were not accepted'), level: 'warn' };
  }
  return { reply: text(500, 'internal error (see the ui-proxy log)'), level: 'error' };
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QueryError('QUERY_TIMEOUT', `query timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_POST_BYTES) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * One `GET /` before serving. A store that answers but can never work with these settings (wrong
 * password, API key or CA, http vs https, not a store, an unsupported version) stops the start
 * with a message naming the setting; a store that is down is only logged: the ui-proxy serves 503
 * until it answers, as zipkin-server does.
 */
async function checkStore(esHttp: EsHttp, url: string, log: Logger): Promise<void> {
  try {
    const version = await readClusterVersion(esHttp);
    log.info({ es: redactUrl(url), distribution: version.distribution, version: `${version.major}.${version.minor}` }, 'store answered');
  } catch (err) {
    if (err instanceof StorageError && !err.retryable) {
      await esHttp.close().catch(() => {});
      throw new UiProxyError('UI_STORE_UNUSABLE', err.message, { cause: err });
    }
    log.warn({ es: redactUrl(url), err: (err as Error).message }, 'store not reachable yet; API answers 503 until it is');
  }
}

/** Starts the ui-proxy; rejects with UiProxyError on unsafe options, an unusable store or a port in use. */
export async function startUiProxy(config: UiConfig, deps: UiProxyDeps): Promise<UiProxy> {
  const { log } = deps;
  const credentials = { users: config.users, tokens: config.tokens };
  const auth = createAuthenticator(config.auth === 'off' ? { users: [], tokens: [] } : credentials);
  assertSafeExposure(config.host, auth, config.auth);
  const registry = deps.registry ?? createRegistry();
  const metrics: UiMetrics = createUiMetrics(registry);
  const esHttp = deps.http ?? createEsHttp({ ...storeConnectionOf(config), requestTimeoutMs: config.queryTimeoutMs });
  await checkStore(esHttp, config.es, log);
  const store = new ElasticsearchSpanStore({
    http: esHttp,
    index: config.indexPrefix,
    dateSeparator: config.dateSeparator,
    strictTraceId: config.strictTraceId,
    searchEnabled: config.searchEnabled,
    namesLookbackMs: config.queryLookback,
    autocompleteKeys: config.autocompleteKeys,
    onSkippedDocuments: (n) => metrics.unreadableDocuments.inc(n),
  });
  const red = new ElasticsearchRedWindowStore({ http: esHttp, index: config.indexPrefix, dateSeparator: config.dateSeparator });
  const api = new ZipkinApi({
    store,
    red,
    defaultLookback: config.queryLookback,
    maxLookback: config.maxLookback,
    maxSpansPerTrace: config.maxSpansPerTrace,
    autocompleteKeys: config.autocompleteKeys,
    onTruncated: () => metrics.tracesTruncated.inc(),
  });

  const healthPage = new HealthPage({ store: red, basePath: config.basePath, maxLookback: config.maxLookback });

  let lensDir: string | undefined;
  try {
    const lens = await prepareLens({ jar: config.lensJar as string | undefined, lensDir: config.lensDir });
    lensDir = lens.dir;
    log.info({ lens: lens.dir, version: lens.version, jar: lens.jar }, 'Zipkin UI files ready');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'Zipkin UI unavailable; the API still works');
  }
  const ui = new LensAssets(lensDir, config.basePath, {
    environment: config.uiEnvironment,
    queryLimit: config.uiQueryLimit,
    defaultLookback: config.uiDefaultLookback,
    searchEnabled: config.searchEnabled,
  });

  let producer: Promise<SpanProducer> | undefined;
  const intake = new SpanIntake({
    topic: config.topic,
    producer: () => {
      producer ??= (async () => {
        const p = createProducer({ ...kafkaConnectionOf(config), clientId: 'pintrace-ui-proxy' });
        await p.connect();
        return p;
      })().catch((err: unknown) => {
        producer = undefined;
        throw err;
      });
      return producer;
    },
    onAccepted: (n) => metrics.spansAccepted.inc(n),
  });

  const apiPrefixes = [...new Set(['/api/v2/', '/zipkin/api/v2/', `${config.basePath}/api/v2/`])];
  const knownRoutes = new Set<string>(API_ROUTES);

  let healthCache: { at: number; ok: boolean; detail: unknown } | undefined;
  const health = async (): Promise<Reply> => {
    if (healthCache === undefined || Date.now() - healthCache.at > 2000) {
      const { ok, status, error } = await checkStoreHealth(esHttp, config.indexPrefix);
      healthCache = { at: Date.now(), ok, detail: error !== undefined ? { error } : { status } };
    }
    const body = JSON.stringify({ status: healthCache.ok ? 'UP' : 'DOWN', elasticsearch: healthCache.detail, ui: ui.available ? 'UP' : 'DOWN' });
    return { status: healthCache.ok ? 200 : 503, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body };
  };

  const route = async (req: http.IncomingMessage, pathname: string, search: string): Promise<{ reply: Reply; label: string }> => {
    const method = req.method ?? 'GET';
    const prefix = apiPrefixes.find((p) => pathname.startsWith(p));
    if (prefix !== undefined) {
      const routePath = pathname.slice(prefix.length);
      const label = routePath.startsWith('trace/') ? 'trace' : knownRoutes.has(routePath) ? routePath : 'other';
      if (routePath === 'spans' && method === 'POST') {
        const body = await readBody(req);
        if (body === undefined) return { reply: text(413, `request body over ${MAX_POST_BYTES} bytes`), label: 'post_spans' };
        return { reply: await intake.post(body, req.headers['content-type'], req.headers['content-encoding']), label: 'post_spans' };
      }
      if (method !== 'GET' && method !== 'HEAD') return { reply: text(405, '405 Method Not Allowed', { allow: 'GET, HEAD' }), label };
      let decoded = routePath;
      try {
        decoded = decodeURIComponent(routePath);
      } catch {
        return { reply: text(400, 'malformed percent-encoding in the path'), label };
      }
      const stop = metrics.querySeconds.startTimer({ route: label });
      const reply = await withDeadline(api.get(decoded, new Params(new URLSearchParams(search))), config.queryTimeoutMs);
      stop();
      return { reply: reply ?? text(404, '404 Not Found'), label };
    }
    if (method !== 'GET' && method !== 'HEAD') return { reply: text(405, '405 Method Not Allowed', { allow: 'GET, HEAD' }), label: 'other' };
    if (pathname === '/metrics')
      return { reply: { status: 200, headers: { 'content-type': registry.contentType }, body: await registry.metrics() }, label: 'metrics' };
    if (pathname === '/health') return { reply: await health(), label: 'health' };
    if (pathname === healthPage.path) {
      const stop = metrics.querySeconds.startTimer({ route: 'health_page' });
      const reply = await withDeadline(healthPage.render(new URLSearchParams(search)), config.queryTimeoutMs);
      stop();
      return { reply, label: 'health_page' };
    }
    const inm = req.headers['if-none-match'];
    const reply = ui.serve(pathname, typeof inm === 'string' ? inm : undefined);
    return { reply: reply ?? text(404, '404 Not Found'), label: reply ? 'ui' : 'other' };
  };

  const server = http.createServer((req, res) => {
    const t0 = process.hrtime.bigint();
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q < 0 ? raw : raw.slice(0, q);
    const search = q < 0 ? '' : raw.slice(q + 1);
    const send = (reply: Reply, label: string): void => {
      metrics.requests.inc({ route: label, status: String(reply.status) });
      const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body;
      res.writeHead(reply.status, { ...reply.headers, 'x-content-type-options': 'nosniff', 'content-length': String(body.length) });
      res.end(req.method === 'HEAD' ? undefined : body);
      log.debug({ method: req.method, path: pathname, status: reply.status, ms: Number(process.hrtime.bigint() - t0) / 1e6 }, 'request');
    };
    if (auth.check(req) === undefined) {
      metrics.authFailures.inc();
      send(text(401, 'authentication required', challenge(credentials)), 'unauthorized');
      return;
    }
    route(req, pathname, search).then(
      ({ reply, label }) => send(reply, label),
      (err: unknown) => {
        const { reply, level } = errorReply(err, config.queryTimeoutMs);
        log[level](
          { err: err instanceof Error ? { message: err.message, code: (err as { code?: unknown }).code } : String(err), path: pathname },
          'request failed',
        );
        send(reply, 'error');
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new UiProxyError('UI_LISTEN_FAILED', `cannot listen on ${config.host}:${config.port}: ${err.message}`, { cause: err })),
    );
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const url = `http://${hostForUrl}:${port}${config.basePath}/`;
  log.info({ url, auth: auth.enabled ? 'on' : 'off', es: redactUrl(config.es) }, 'ui-proxy listening');

  let stopping: Promise<void> | undefined;
  return {
    port,
    url,
    registry,
    shutdown() {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 2000).unref();
        });
        if (producer !== undefined) await (await producer.catch(() => undefined))?.disconnect().catch(() => undefined);
        if (deps.http === undefined) await esHttp.close();
      })();
      return stopping;
    },
  };
}
