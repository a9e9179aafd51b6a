import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';

export interface HealthReport {
  ok: boolean;
  /** Per-dependency status shown in the /health body. */
  checks?: Record<string, unknown>;
}

export interface OpsServerOptions {
  port: number;
  /** Listen address; default PINTRACE_METRICS_HOST or 127.0.0.1 (containers set 0.0.0.0). */
  host?: string;
  registry: Registry;
  health: () => HealthReport | Promise<HealthReport>;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A registry with Node's process metrics (RSS, heap, event loop lag) already registered. */
export function createRegistry(prefix = 'pintrace_'): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  return registry;
}

/** Serves Prometheus /metrics and /health (200 when ok, 503 otherwise) for a long-running process. */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed\n');
    if (url === '/metrics') {
      options.registry
        .metrics()
        .then((text) => reply(200, options.registry.contentType, text))
        .catch((err: unknown) => reply(500, 'text/plain', `metrics failed: ${String(err)}\n`));
      return;
    }
    if (url === '/health') {
      Promise.resolve()
        .then(() => options.health())
        .then((h) => reply(h.ok ? 200 : 503, 'application/json', JSON.stringify({ status: h.ok ? 'UP' : 'DOWN', ...h.checks }) + '\n'))
        .catch((err: unknown) => reply(503, 'application/json', JSON.stringify({ status: 'DOWN', error: String(err) }) + '\n'));
      return;
    }
    reply(404, 'text/plain', 'not found: try /metrics or /health\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? process.env.PINTRACE_METRICS_HOST ?? '127.0.0.1', () => resolve());
  });
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
