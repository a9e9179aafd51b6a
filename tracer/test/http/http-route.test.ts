import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { traceRequestListener } from '@pintrace/tracer';
import { memoryTracing } from '../helpers.js';

/** @opentelemetry/core's RPC metadata key, as frameworks' instrumentations read it (a Symbol.for key). */
const RPC_METADATA_KEY = Symbol.for('OpenTelemetry SDK Context Key RPC_METADATA');

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function serve(handler: http.RequestListener) {
  const { tracing, sink } = memoryTracing();
  const server = http.createServer(traceRequestListener(tracing, handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () => tracing.shutdown(),
    () => new Promise<void>((resolve) => server.close(() => resolve())),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { sink, url };
}

/** The server span ends when the response closes, a moment after the client has the body. */
async function ended(sink: { spans(): unknown[] }): Promise<void> {
  for (let i = 0; i < 200 && sink.spans().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('server span named after the route a framework reports', () => {
  it('OTel RPC metadata (what instrumentation-express and -fastify write): `<method> <route>` and the http.route tag', async () => {
    const { sink, url } = await serve((_req, res) => {
      const rpc = context.active().getValue(RPC_METADATA_KEY) as { type: string; span: unknown; route?: string };
      expect(rpc.type).toBe('http');
      expect(rpc.span).toBe(trace.getActiveSpan());
      rpc.route = '/users/:id';
      res.end('ok');
    });
    await (await fetch(`${url}/users/7?x=1`)).text();
    await ended(sink);
    const [span] = sink.spans();
    expect(span).toMatchObject({ name: 'get /users/:id', tags: { 'http.route': '/users/:id', 'http.path': '/users/7' } });
  });

  it('an http.route attribute set on the server span names it too', async () => {
    const { sink, url } = await serve((_req, res) => {
      trace.getActiveSpan()!.setAttribute('http.route', '/orders/{id}');
      res.end('ok');
    });
    await (await fetch(`${url}/orders/9`, { method: 'POST' })).text();
    await ended(sink);
    expect(sink.spans()[0]).toMatchObject({ name: 'post /orders/{id}', tags: { 'http.route': '/orders/{id}' } });
  });

  it('without a route the span keeps the method name', async () => {
    const { sink, url } = await serve((_req, res) => res.end('ok'));
    await (await fetch(`${url}/plain`)).text();
    await ended(sink);
    expect(sink.spans()[0].name).toBe('get');
    expect(sink.spans()[0].tags?.['http.route']).toBeUndefined();
  });

  it('names it after any method in lower case, and tags the method as Node reports it', async () => {
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND'];
    const { sink, url } = await serve((_req, res) => res.end());
    for (const method of methods) await (await fetch(`${url}/m`, { method })).arrayBuffer();
    for (let i = 0; i < 200 && sink.spans().length < methods.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sink.spans().map((s) => [s.name, s.tags?.['http.method']])).toEqual(methods.map((m) => [m.toLowerCase(), m]));
  });
});
