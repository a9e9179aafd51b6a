import http from 'node:http';
import { request as importedRequest } from 'node:http';
import { trace, type Span } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { NEVER_SAMPLE, ProbabilisticSampler } from '@pintrace/sampler';
import { instrumentHttp, traceRequestListener, wrapRequest } from '@pintrace/tracer';
import { closeAfterEach, listenFor, memoryTracingFor, type MemoryTracingOptions } from '../helpers.js';

const closers = closeAfterEach();

const setup = (options: MemoryTracingOptions = {}) => memoryTracingFor(closers, options);

const listen = (server: http.Server) => listenFor(closers, server);

interface Reply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

function call(request: typeof http.request, url: string, options: http.RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const activeSpanId = () => trace.getActiveSpan()?.spanContext().spanId;

describe('HTTP server instrumentation', () => {
  it('creates a SERVER span per request with method, path, status and peer', async () => {
    const { tracing, sink } = setup();
    const server = http.createServer(
      traceRequestListener(tracing, (req, res) => {
        res.statusCode = req.url?.startsWith('/fail') ? 503 : 200;
        res.end('ok');
      }),
    );
    const url = await listen(server);
    await call(http.request, `${url}/items/7?q=1`);
    await call(http.request, `${url}/fail`, { method: 'POST' });
    const [ok, failed] = sink.spans();
    expect(ok).toMatchObject({
      kind: 'SERVER',
      name: 'get',
      tags: { 'http.method': 'GET', 'http.path': '/items/7', 'http.status_code': '200' },
      remoteEndpoint: { ipv4: '127.0.0.1' },
    });
    expect(ok.parentId).toBeUndefined();
    expect(failed).toMatchObject({ name: 'post', tags: { 'http.status_code': '503', error: '503' } });
  });

  it('reads the peer of a sampled request without adding a property to either socket', async () => {
    // Node's remoteAddress getter caches the peer on the socket: only the sockets of sampled
    // requests would then change shape, and Node's code would pay for two shapes on every request
    const { tracing, sink } = setup();
    let serverSocket: import('node:net').Socket | undefined;
    const server = http.createServer(
      traceRequestListener(tracing, (req, res) => {
        serverSocket = req.socket;
        res.end('ok');
      }),
    );
    const url = await listen(server);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    closers.push(() => agent.destroy());
    let clientPort = 0;
    let clientSocket: import('node:net').Socket | undefined;
    const request = wrapRequest(tracing, http.request);
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request(`${url}/peer`, { agent }, (res) => {
          clientSocket = req.socket ?? undefined;
          clientPort = req.socket?.localPort ?? 0;
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end();
      });
    }
    const spans = sink.spans();
    const servers = spans.filter((s) => s.kind === 'SERVER');
    const clients = spans.filter((s) => s.kind === 'CLIENT');
    expect(servers).toHaveLength(2);
    expect(clients).toHaveLength(2);
    for (const span of servers) expect(span.remoteEndpoint).toEqual({ ipv4: '127.0.0.1', port: clientPort });
    for (const span of clients) expect(span.remoteEndpoint).toEqual({ ipv4: '127.0.0.1', port: Number(new URL(url).port) });
    expect(serverSocket && Object.hasOwn(serverSocket, '_peername')).toBe(false);
    expect(clientSocket && Object.hasOwn(clientSocket, '_peername')).toBe(false);
  });

  it('joins the caller B3 context with a shared span id', async () => {
    const { tracing, sink } = setup();
    const server = http.createServer(traceRequestListener(tracing, (_req, res) => res.end()));
    const url = await listen(server);
    await call(http.request, url, {
      headers: { 'X-B3-TraceId': '463ac35c9f6413ad', 'X-B3-SpanId': 'a2fb4a1d1a96d312', 'X-B3-ParentSpanId': '0020000000000001', 'X-B3-Sampled': '1' },
    });
    expect(sink.spans()[0]).toMatchObject({
      traceId: '463ac35c9f6413ad',
      id: 'a2fb4a1d1a96d312',
      parentId: '0020000000000001',
      shared: true,
    });
  });

  it('ignores malformed B3 headers and starts a new trace', async () => {
    const { tracing, sink } = setup();
    const server = http.createServer(traceRequestListener(tracing, (_req, res) => res.end()));
    const url = await listen(server);
    const reply = await call(http.request, url, { headers: { b3: 'garbage', 'x-b3-traceid': 'zz', 'x-b3-spanid': '1' } });
    expect(reply.status).toBe(200);
    expect(sink.spans()[0].parentId).toBeUndefined();
  });

  it('keeps each request in its own context on a keep-alive connection, through async work and req events', async () => {
    const { tracing, sink } = setup();
    const seen: Array<{ handler?: string; onEnd?: string; afterTimer?: string }> = [];
    const server = http.createServer(
      traceRequestListener(tracing, (req, res) => {
        const entry: (typeof seen)[number] = { handler: activeSpanId() };
        seen.push(entry);
        req.on('data', () => undefined);
        req.on('end', () => {
          entry.onEnd = activeSpanId();
          setTimeout(() => {
            entry.afterTimer = activeSpanId();
            res.end();
          }, 5);
        });
      }),
    );
    const url = await listen(server);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    closers.push(() => agent.destroy());
    const sockets = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.request(url, { method: 'POST', agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('socket', (s) => sockets.add(s));
        req.on('error', reject);
        req.end('body');
      });
    }
    expect(sockets.size).toBe(1);
    const ids = sink.spans().map((s) => s.id);
    expect(seen.map((e) => e.handler)).toEqual(ids);
    expect(seen.map((e) => e.onEnd)).toEqual(ids);
    expect(seen.map((e) => e.afterTimer)).toEqual(ids);
    expect(new Set(sink.spans().map((s) => s.traceId)).size).toBe(3);
  });

  it.each([false, true])('decides a root on the id its span carries, sampled or not (128-bit ids: %s)', async (traceId128Bit) => {
    // a root without trace headers is decided before its span is made: a sampled one must then
    // carry the id that was decided, not a second one (which would sample half of half here)
    const { tracing, sink } = setup({ sampler: new ProbabilisticSampler(50), traceId128Bit });
    const seen: Array<{ traceId: string; recording: boolean }> = [];
    const server = http.createServer(
      traceRequestListener(tracing, (_req, res) => {
        const span = trace.getActiveSpan();
        seen.push({ traceId: span?.spanContext().traceId ?? '', recording: span?.isRecording() ?? false });
        res.end();
      }),
    );
    const url = await listen(server);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    closers.push(() => agent.destroy());
    await Promise.all(Array.from({ length: 400 }, () => call(http.request, url, { agent })));
    const judge = new ProbabilisticSampler(50);
    expect(seen).toHaveLength(400);
    for (const { traceId, recording } of seen) expect({ traceId, recording }).toEqual({ traceId, recording: judge.isSampled(traceId) });
    const sampled = seen.filter((s) => s.recording);
    expect(sampled.length).toBeGreaterThan(140);
    expect(sampled.length).toBeLessThan(260);
    // Zipkin's form of the trace id: 16 characters for a 64-bit one
    const written = sink.spans().map((s) => s.traceId.padStart(32, '0'));
    expect(written.sort()).toEqual(sampled.map((s) => s.traceId).sort());
    expect(new Set(seen.map((s) => s.traceId)).size).toBe(400);
  });
});

describe('HTTP client instrumentation', () => {
  it('creates a CLIENT span, injects B3 and the server joins it', async () => {
    const { tracing: front, sink: frontSink } = setup({ serviceName: 'front' });
    const { tracing: back, sink: backSink } = setup({ serviceName: 'back' });
    let received: http.IncomingHttpHeaders = {};
    const server = http.createServer(
      traceRequestListener(back, (req, res) => {
        received = req.headers;
        res.end('hi');
      }),
    );
    const url = await listen(server);
    const request = wrapRequest(front, http.request);
    await front.tracer.startActiveSpan('caller', async (caller) => {
      const reply = await call(request, `${url}/hello?x=1`);
      expect(reply.body).toBe('hi');
      caller.end();
    });
    const [client, caller] = frontSink.spans();
    const [server_] = backSink.spans();
    expect(client).toMatchObject({
      kind: 'CLIENT',
      name: 'get',
      parentId: caller.id,
      traceId: caller.traceId,
      tags: { 'http.method': 'GET', 'http.path': '/hello', 'http.status_code': '200' },
      remoteEndpoint: { ipv4: '127.0.0.1' },
    });
    expect(received['x-b3-traceid']).toBe(caller.traceId);
    expect(received['x-b3-spanid']).toBe(client.id);
    expect(received['x-b3-parentspanid']).toBe(caller.id);
    expect(received['x-b3-sampled']).toBe('1');
    expect(server_).toMatchObject({ id: client.id, parentId: caller.id, traceId: caller.traceId, shared: true });
  });

  it('propagates deny when unsampled and records nothing', async () => {
    const { tracing, sink } = setup({ sampler: NEVER_SAMPLE });
    let received: http.IncomingHttpHeaders = {};
    const server = http.createServer((req, res) => {
      received = req.headers;
      res.end();
    });
    const url = await listen(server);
    await call(wrapRequest(tracing, http.request), url);
    expect(received['x-b3-sampled']).toBe('0');
    expect(received['x-b3-traceid']).toMatch(/^[0-9a-f]{16}$/);
    expect(sink.spans()).toEqual([]);
  });

  it('runs response callbacks in the caller context, even on a reused keep-alive socket', async () => {
    const { tracing } = setup();
    const server = http.createServer((_req, res) => setTimeout(() => res.end('x'), 2));
    const url = await listen(server);
    const request = wrapRequest(tracing, http.request);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    closers.push(() => agent.destroy());
    for (let i = 0; i < 3; i++) {
      await tracing.tracer.startActiveSpan(`caller${i}`, async (caller: Span) => {
        const seen = await new Promise<string[]>((resolve) => {
          const ids: string[] = [];
          const req = request(url, { agent }, (res) => {
            ids.push(activeSpanId() ?? 'none');
            res.on('data', () => ids.push(activeSpanId() ?? 'none'));
            res.on('end', () => resolve([...ids, activeSpanId() ?? 'none']));
          });
          req.end();
        });
        expect(new Set(seen)).toEqual(new Set([caller.spanContext().spanId]));
        caller.end();
      });
    }
  });

  it('ends the span with an error when the request fails, without hiding the error from the app', async () => {
    const { tracing, sink } = setup();
    const request = wrapRequest(tracing, http.request);
    const err = await new Promise<Error>((resolve) => {
      const req = request('http://127.0.0.1:1/', () => undefined);
      req.on('error', resolve);
      req.end();
    });
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(sink.spans()[0]).toMatchObject({ kind: 'CLIENT', tags: { error: expect.stringMatching(/ECONNREFUSED/) } });
  });

  it('still lets Node discard a response nobody reads', async () => {
    const { tracing, sink } = setup();
    const server = http.createServer((_req, res) => res.end('x'.repeat(100_000)));
    const url = await listen(server);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    closers.push(() => agent.destroy());
    const request = wrapRequest(tracing, http.request);
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve) => {
        const req = request(url, { agent });
        req.on('close', () => resolve());
        req.end();
      });
    }
    expect(sink.spans()).toHaveLength(2);
  });

  it('goes out untraced, not broken, when headers are given as a raw array', async () => {
    const { tracing } = setup();
    const server = http.createServer((_req, res) => res.end('ok'));
    const url = await listen(server);
    const reply = await call(wrapRequest(tracing, http.request), url, { headers: ['host', '127.0.0.1', 'x-a', '1'] as unknown as http.OutgoingHttpHeaders });
    expect(reply.body).toBe('ok');
  });
});

describe('instrumentHttp', () => {
  it('traces a request once when a patched server runs a traced listener, sampled or not', async () => {
    for (const sampler of [undefined, NEVER_SAMPLE]) {
      const { tracing, sink } = setup(sampler ? { sampler } : {});
      const untracedRequest = http.request; // the caller's headers as given, no client span
      const undo = instrumentHttp(tracing);
      let seen: string | undefined;
      const server = http.createServer(
        traceRequestListener(tracing, (req, res) => {
          // the listener's context is the patched server's: the inner instrumentation stood aside
          req.on('end', () => (seen = trace.getActiveSpan()?.spanContext().traceId));
          req.resume();
          setImmediate(() => res.end('ok'));
        }),
      );
      const url = await listen(server);
      const reply = await call(untracedRequest, url, {
        headers: { 'x-b3-traceid': '463ac35c9f6413ad', 'x-b3-spanid': '72485a3953bb6124', 'x-b3-sampled': sampler ? '0' : '1' },
      });
      undo();
      expect(reply.body).toBe('ok');
      expect(seen).toBe('0000000000000000463ac35c9f6413ad');
      expect(sink.spans().filter((s) => s.kind === 'SERVER')).toHaveLength(sampler ? 0 : 1);
    }
  });

  it('patches http servers and clients (named ESM imports too) and undoes it', async () => {
    const { tracing, sink } = setup();
    const undo = instrumentHttp(tracing);
    closers.push(undo);
    expect(instrumentHttp(tracing)).toBeTypeOf('function');
    const server = http.createServer((_req, res) => res.end('ok'));
    const url = await listen(server);
    await call(importedRequest, url);
    await new Promise<void>((resolve) => http.get(url, (res) => res.resume().on('end', resolve)));
    const kinds = sink.spans().map((s) => s.kind);
    expect(kinds.filter((k) => k === 'CLIENT')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'SERVER')).toHaveLength(2);
    const servers = sink.spans().filter((s) => s.kind === 'SERVER');
    const clients = sink.spans().filter((s) => s.kind === 'CLIENT');
    expect(servers.map((s) => s.id).sort()).toEqual(clients.map((s) => s.id).sort());

    undo();
    sink.clear();
    await call(importedRequest, url);
    expect(sink.spans()).toEqual([]);
  });
});
