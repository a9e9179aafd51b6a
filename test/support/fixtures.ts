import { randomBytes } from 'node:crypto';
import type { Span } from '@pintrace/model';

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/**
 * A four-span trace in the shape of zipkin's TestObjects.newTrace (server → client → shared server
 * → db client with a non-ASCII annotation and an error tag), with fresh ids and a timestamp near now.
 * `raw` variants carry what zipkin-server normalises (upper-case names, unsorted tags, duplicate
 * annotations, short ids) so both writers must normalise alike.
 */
export function zipkinStyleTrace(opts: { traceIdBytes?: 8 | 16; nowMicros?: number; raw?: boolean } = {}): Span[] {
  const traceId = hex(opts.traceIdBytes ?? 16);
  const t = opts.nowMicros ?? Date.now() * 1000;
  const root = hex(8);
  const client = hex(8);
  const db = hex(8);
  const frontend = { serviceName: opts.raw ? 'FrontEnd' : 'frontend', ipv4: '127.0.0.1' };
  const backend = { serviceName: 'backend', ipv4: '192.168.99.101', port: 9000 };
  return [
    {
      traceId,
      id: root,
      kind: 'SERVER',
      name: opts.raw ? 'GET /' : 'get /',
      timestamp: t,
      duration: 350_000,
      localEndpoint: frontend,
      tags: opts.raw ? { 'http.path': '/api', 'clnt/finagle.version': '6.45.0' } : { 'clnt/finagle.version': '6.45.0', 'http.path': '/api' },
    },
    {
      traceId,
      parentId: root,
      id: client,
      kind: 'CLIENT',
      name: 'get',
      timestamp: t + 50_000,
      duration: 200_000,
      localEndpoint: frontend,
      remoteEndpoint: backend,
      annotations: opts.raw
        ? [
            { timestamp: t + 100_000, value: 'foo' },
            { timestamp: t + 50_000, value: 'ws' },
            { timestamp: t + 100_000, value: 'foo' },
          ]
        : [
            { timestamp: t + 50_000, value: 'ws' },
            { timestamp: t + 100_000, value: 'foo' },
          ],
      tags: { 'http.path': '/api' },
    },
    {
      traceId,
      parentId: root,
      id: client,
      kind: 'SERVER',
      name: 'get',
      shared: true,
      timestamp: t + 70_000,
      duration: 150_000,
      localEndpoint: backend,
      remoteEndpoint: frontend,
    },
    {
      traceId,
      parentId: client,
      id: db,
      kind: 'CLIENT',
      name: 'query',
      timestamp: t + 90_000,
      duration: 50_000,
      localEndpoint: backend,
      remoteEndpoint: { serviceName: 'db', ipv6: '2001:db8::c001', port: 3036 },
      annotations: [{ timestamp: t + 100_000, value: '⻩' }],
      tags: { error: '💩' },
    },
  ] as Span[];
}
