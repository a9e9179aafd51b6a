import type net from 'node:net';
import { MemcacheClient } from 'memcache-client';
import { startTracing, traceMemcacheClient, type DiagnosticLogger, type Tracing } from '@pintrace/tracer';
import type { RateSource } from '@pintrace/sampler';
import { createBackend, type DemoCache } from './backend.js';
import { createFrontend } from './frontend.js';
import { startRecommender, type Recommender, type RecommenderOptions } from './recommender.js';
import { close, listen } from './http-util.js';

export interface DemoOptions {
  /** Where `frontend.jsonl` and `backend.jsonl` are written. */
  spansDir: string;
  /** 0 (default) picks a free port. */
  frontendPort?: number;
  /** Port of the Thrift backend; 0 (default) picks a free port. */
  backendPort?: number;
  /** Percent of traces sampled (the frontend decides; the backend follows). Default 100. */
  sampleRate?: number | RateSource;
  /** Default 127.0.0.1. */
  host?: string;
  /** Service names. Default `frontend` and `backend`. */
  frontendService?: string;
  backendService?: string;
  /**
   * memcached the backend caches in, `host:port`. Default: `$PINTRACE_DEMO_MEMCACHED`; without
   * either the backend computes every time (no memcache spans).
   */
  memcachedUrl?: string;
  /** The memcache cluster name on the backend's memcache spans. Default `demo-cache`. */
  memcacheCluster?: string;
  /** How long the backend's slow path (`/slow`) waits. Default 300 ms. */
  slowMs?: number;
  /**
   * Also run the Python recommender (OpenTelemetry SDK, OTLP to the agent's intake), called by the
   * frontend after the backend: the demo becomes polyglot. Off when unset.
   */
  recommender?: Omit<RecommenderOptions, 'port'>;
  /** Where the tracers report their own problems. Default: stderr. */
  logger?: DiagnosticLogger;
}

export interface Demo {
  readonly frontendUrl: string;
  /** `thrift://host:port` of the TTwitter backend. */
  readonly backendUrl: string;
  /** Writes every span ended so far to the span files. */
  flush(): Promise<void>;
  /** Closes both servers and the memcache client, then flushes and closes the span files. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Starts the two demo services in this process, each traced by its own tracer and writing its own
 * span file: frontend SERVER (HTTP) → frontend CLIENT `work` (Thrift, TTwitter) → backend SERVER
 * `work` (same span id, shared) → backend memcache CLIENT spans and a local `compute` span on a
 * cache miss.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const host = options.host ?? '127.0.0.1';
  const common = {
    spansDir: options.spansDir,
    sampleRate: options.sampleRate ?? 100,
    registerGlobal: false,
    instrumentHttp: false,
    logger: options.logger,
  };
  const backendService = options.backendService ?? 'backend';
  const tracings: Tracing[] = [];
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  let memcache: MemcacheClient | undefined;
  let recommender: Recommender | undefined;
  const stopAll = async (): Promise<void> => {
    // frontend first: stop intake before closing what it calls
    for (const server of [...servers].reverse()) {
      const closed = close(server);
      if (server === servers[0]) for (const socket of sockets) socket.destroy();
      await closed;
    }
    memcache?.shutdown();
    await recommender?.stop();
    await Promise.all(tracings.map((t) => t.shutdown()));
  };
  try {
    const backendTracing = startTracing({ ...common, serviceName: backendService });
    tracings.push(backendTracing);
    const memcachedUrl = options.memcachedUrl ?? process.env.PINTRACE_DEMO_MEMCACHED;
    let cache: DemoCache | undefined;
    if (memcachedUrl) {
      memcache = new MemcacheClient({ server: memcachedUrl, cmdTimeout: 1000 });
      cache = traceMemcacheClient(backendTracing, memcache, { cluster: options.memcacheCluster ?? 'demo-cache' }) as unknown as DemoCache;
    }
    const backend = createBackend(backendTracing, { cache, slowMs: options.slowMs });
    backend.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    servers.push(backend);
    const backendUrl = await listen(backend, host, options.backendPort ?? 0, 'thrift');

    const frontendTracing = startTracing({ ...common, serviceName: options.frontendService ?? 'frontend' });
    tracings.push(frontendTracing);
    if (options.recommender) recommender = await startRecommender(options.recommender);
    const frontend = createFrontend(frontendTracing, backendUrl, { backendService, recommenderUrl: recommender?.url });
    servers.push(frontend);
    const frontendUrl = await listen(frontend, host, options.frontendPort ?? 0);

    let stopping: Promise<void> | undefined;
    return {
      frontendUrl,
      backendUrl,
      flush: async () => {
        await Promise.all(tracings.map((t) => t.flush()));
      },
      shutdown: () => {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
