import http from 'node:http';
import { context, defaultTextMapSetter, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { createTTwitterConnection, currentTraceId, traceRequestListener, type HttpTracing, type TTwitterConnection } from '@pintrace/tracer';
import { createDemoClient } from './demo-service.js';
import { sendJson } from './http-util.js';

export interface FrontendOptions {
  /** The backend's Zipkin service name (remote endpoint of the Thrift client spans). Default `backend`. */
  backendService?: string;
  /** The Python recommender (`http://host:port/recommend`), called after the backend when set. */
  recommenderUrl?: string;
}

/** GET the recommender in a CLIENT span, its context sent as W3C traceparent (what the Python SDK reads). */
async function recommend(tracing: HttpTracing, url: string): Promise<unknown> {
  const span = tracing.tracer.startSpan('GET /recommend', { kind: SpanKind.CLIENT, attributes: { 'peer.service': 'recommender', 'http.method': 'GET' } });
  const headers: Record<string, string> = {};
  tracing.propagator.inject(trace.setSpan(context.active(), span), headers, defaultTextMapSetter);
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
    span.setAttribute('http.status_code', res.status);
    return ((await res.json()) as { items?: unknown }).items;
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    return undefined;
  } finally {
    span.end();
  }
}

/**
 * The demo frontend: an HTTP server whose every request calls the backend's Thrift
 * `work(n, mode)` over a TTwitter connection. `GET /?n=N` (default 20) answers
 * `{ traceId, backend: { n, result, cached } }` (plus `recommended` from the Python recommender when set); `/fail…` asks the backend to fail (502),
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
      const recommender = options.recommenderUrl;
      client.work(n, mode).then(
        async (result) => {
          const recommended = recommender === undefined ? undefined : await recommend(tracing, recommender);
          sendJson(res, 200, { traceId, backend: result, ...(recommended === undefined ? {} : { recommended }) }, { 'x-trace-id': traceId });
        },
        (err: unknown) => sendJson(res, 502, { traceId, error: (err as Error)?.message ?? String(err) }, { 'x-trace-id': traceId }),
      );
    }),
  );
  server.on('close', () => connection.end());
  return server;
}
