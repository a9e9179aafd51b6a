import http from 'node:http';
import { currentTraceId, traceRequestListener, wrapRequest, type HttpTracing } from '@pintrace/tracer';
import { readBody, sendJson } from './http-util.js';

/**
 * The demo frontend. Every request calls the backend's `/work` (`/fail` is passed on as `/fail`)
 * and answers `{ "traceId": ..., "backend": <backend's JSON> }` with the trace id also in the
 * `x-trace-id` header, so a test can look the trace up in Zipkin.
 */
export function createFrontend(tracing: HttpTracing, backendUrl: string): http.Server {
  const request = wrapRequest(tracing, http.request);
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer(
    traceRequestListener(tracing, (req, res) => {
      const traceId = currentTraceId() ?? '';
      const path = (req.url ?? '/').startsWith('/fail') ? '/fail' : '/work?n=20';
      const call = request(new URL(path, backendUrl), { agent }, (backendRes) => {
        readBody(backendRes).then(
          (body) => {
            const ok = (backendRes.statusCode ?? 500) < 500;
            sendJson(res, ok ? 200 : 502, { traceId, backend: parse(body) }, { 'x-trace-id': traceId });
          },
          () => sendJson(res, 502, { traceId, error: 'backend response failed' }, { 'x-trace-id': traceId }),
        );
      });
      call.on('error', () => sendJson(res, 502, { traceId, error: 'backend unreachable' }, { 'x-trace-id': traceId }));
      call.end();
    }),
  );
  server.on('close', () => agent.destroy());
  return server;
}

function parse(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
