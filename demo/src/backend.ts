import http from 'node:http';
import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { traceRequestListener, type HttpTracing } from '@pintrace/tracer';
import { sendJson } from './http-util.js';

/**
 * The demo backend. `GET /work?n=N` computes a little (in a local `compute` child span) and
 * answers `{ "result": ..., "n": N }`; `GET /fail` answers 500 (an error span). Anything else 404.
 */
export function createBackend(tracing: HttpTracing): http.Server {
  return http.createServer(traceRequestListener(tracing, (req, res) => handle(tracing.tracer, req, res)));
}

function handle(tracer: Tracer, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://backend');
  if (url.pathname === '/fail') {
    sendJson(res, 500, { error: 'asked to fail' });
    return;
  }
  if (url.pathname !== '/work') {
    sendJson(res, 404, { error: 'not found' });
    return;
  }
  const n = Math.min(Math.max(Number(url.searchParams.get('n') ?? 20) || 20, 1), 30);
  void tracer.startActiveSpan('compute', { attributes: { 'demo.n': n } }, async (span) => {
    try {
      await new Promise((resolve) => setImmediate(resolve));
      const result = fibonacci(n);
      span.addEvent('computed');
      sendJson(res, 200, { n, result });
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      sendJson(res, 500, { error: 'compute failed' });
    } finally {
      span.end();
    }
  });
}

function fibonacci(n: number): number {
  let a = 0;
  let b = 1;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}
