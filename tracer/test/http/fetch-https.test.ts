import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { instrumentFetch, traceRequestListener, wrapRequest } from '@pintrace/tracer';
import { selfSignedCert } from '../../../test/support/self-signed.js';
import { closeAfterEach, listenFor, memoryTracing } from '../helpers.js';

const closers = closeAfterEach();

function setup() {
  const result = memoryTracing();
  const undo = instrumentFetch(result.tracing);
  closers.push(() => result.tracing.shutdown(), undo);
  return result;
}

const listen = (server: http.Server | https.Server, scheme = 'http') => listenFor(closers, server, scheme);

/** A server that answers with the trace headers it received. */
function echoServer(): http.Server {
  return http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.statusCode = req.url === '/fail' ? 503 : 200;
    res.end(JSON.stringify({ b3: req.headers['x-b3-traceid'], span: req.headers['x-b3-spanid'], traceparent: req.headers.traceparent }));
  });
}

describe('fetch instrumentation (undici diagnostics_channel)', () => {
  it('makes a CLIENT span, child of the caller, and sends B3 and traceparent', async () => {
    const { tracing, sink } = setup();
    const url = await listen(echoServer());
    const parent = tracing.tracer.startSpan('parent');
    const got = await context.with(trace.setSpan(ROOT_CONTEXT, parent), async () => (await fetch(`${url}/a?q=1`)).json());
    parent.end();
    const [client] = sink.spans().filter((s) => s.kind === 'CLIENT');
    expect(client).toMatchObject({
      name: 'get',
      parentId: parent.spanContext().spanId,
      tags: { 'http.method': 'GET', 'http.path': '/a', 'http.status_code': '200' },
      remoteEndpoint: { ipv4: '127.0.0.1', port: Number(new URL(url).port) },
    });
    expect(got).toEqual({ b3: client.traceId, span: client.id, traceparent: `00-${parent.spanContext().traceId}-${client.id}-01` });
  });

  it('marks 5xx and network errors as errors', async () => {
    const { sink } = setup();
    const url = await listen(echoServer());
    await (await fetch(`${url}/fail`)).arrayBuffer();
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await fetch(`http://127.0.0.1:${closedPort}/`).catch(() => undefined); // connection refused
    const clients = sink.spans().filter((s) => s.kind === 'CLIENT');
    expect(clients.map((s) => s.tags?.error)).toEqual(['503', expect.any(String)]);
  });

  it('keeps concurrent traces apart on one pooled keep-alive connection', async () => {
    const { tracing, sink } = setup();
    let connections = 0;
    const server = echoServer();
    server.on('connection', () => connections++);
    const url = await listen(server);
    const results = [];
    for (let round = 0; round < 6; round++) {
      // sequential per round so the pooled socket is reused; each from its own root span
      const root = tracing.tracer.startSpan(`root-${round}`);
      const got = await context.with(trace.setSpan(ROOT_CONTEXT, root), async () => (await fetch(url)).json());
      root.end();
      results.push({ root: root.spanContext(), got: got as { b3: string } });
    }
    const untraced = (await (await fetch(url)).json()) as { b3: string };
    expect(connections).toBeLessThan(3); // undici's pool reused its sockets across the 7 requests
    for (const { root, got } of results) expect(got.b3).toBe(root.traceId.slice(16));
    expect(new Set(results.map((r) => r.got.b3)).size).toBe(6);
    // a fetch outside any span starts its own trace rather than joining the last one
    expect(results.map((r) => r.got.b3)).not.toContain(untraced.b3);
    expect(sink.spans().filter((s) => s.kind === 'CLIENT')).toHaveLength(7);
  });

  it('leaves requests that already carry trace headers alone, and unsubscribes on undo', async () => {
    const { sink } = setup();
    const url = await listen(echoServer());
    const got = (await (await fetch(url, { headers: { 'x-b3-traceid': '0000000000000001', 'x-b3-spanid': '0000000000000002' } })).json()) as { span: string };
    expect(got.span).toBe('0000000000000002');
    expect(sink.spans()).toHaveLength(0);
  });
});

describe('https server and client', () => {
  let key: Buffer;
  let cert: Buffer;
  beforeAll(() => {
    const made = selfSignedCert(mkdtempSync(join(tmpdir(), 'tls-')), 'localhost', '/CN=localhost', ['subjectAltName=IP:127.0.0.1']);
    key = readFileSync(made.key);
    cert = readFileSync(made.cert);
  });

  it('traces an https server and client, joined by B3, over a keep-alive agent', async () => {
    const { tracing, sink } = memoryTracing();
    closers.push(() => tracing.shutdown());
    const server = https.createServer(
      { key, cert },
      traceRequestListener(tracing, (_req, res) => res.end('ok')),
    );
    const url = await listen(server, 'https');
    const request = wrapRequest(tracing, https.request);
    const agent = new https.Agent({ keepAlive: true, ca: cert });
    closers.push(() => agent.destroy());
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request(url, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', reject);
        req.end();
      });
    }
    await new Promise((r) => setImmediate(r));
    const spans = sink.spans();
    const clients = spans.filter((s) => s.kind === 'CLIENT');
    const servers = spans.filter((s) => s.kind === 'SERVER');
    expect(clients).toHaveLength(2);
    expect(servers).toHaveLength(2);
    for (const client of clients) expect(servers.find((s) => s.id === client.id)).toMatchObject({ traceId: client.traceId, shared: true });
    expect(clients[0].traceId).not.toBe(clients[1].traceId);
  });
});
