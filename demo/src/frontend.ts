import http from 'node:http';
import {
  createTTwitterConnection,
  currentTraceId,
  traceRequestListener,
  type HttpTracing,
  type TTwitterConnection,
} from '@pintrace/tracer';
import { createDemoClient } from './demo-service.js';
import { sendJson } from './http-util.js';

export interface FrontendOptions {
  /** The backend's Zipkin service name (remote endpoint of the Thrift client spans). Default `backend`. */
  backendService?: string;
}

/**
 * The demo frontend: an HTTP server whose every request calls the backend's Thrift
 * `work(n, mode)` over a TTwitter connection. `GET /?n=N` (default 20) answers
 * `{ traceId, backend: { n, result, cached } }`; `/fail…` asks the backend to fail (502),
 * `/slow…` to be slow. The trace id is also in the `x-trace-id` header.
 * `backendUrl` is `thrift://host:port`.
 */
export function createFrontend(tracing: HttpTracing, backendUrl: string, options: FrontendOptions = {}): http.Server {
  const target = new URL(backendUrl);
  const connection: TTwitterConnection = createTTwitterConnection(tracing, target.hostname, Number(target.port), {
    remoteServiceName: options.backendService ?? 'backend',
  });
  connection.on('error', () => undefined); // a failed call answers 502; the connection reconnects
  const client = createDemoClient(connection);
  const server = http.createServer(
    traceRequestListener(tracing, (req, res) => {
      const traceId = currentTraceId() ?? '';
      const url = new URL(req.url ?? '/', 'http://frontend');
      const mode = url.pathname.startsWith('/fail') ? 'fail' : url.pathname.startsWith('/slow') ? 'slow' : 'normal';
      const n = Number(url.searchParams.get('n') ?? 20) || 20;
      client.work(n, mode).then(
        (result) => sendJson(res, 200, { traceId, backend: result }, { 'x-trace-id': traceId }),
        (err: unknown) => sendJson(res, 502, { traceId, error: (err as Error)?.message ?? String(err) }, { 'x-trace-id': traceId }),
      );
    }),
  );
  server.on('close', () => connection.end());
  return server;
}
