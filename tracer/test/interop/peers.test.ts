import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ALWAYS_SAMPLE } from '@pintrace/sampler';
import { InMemorySpanSink, silentLogger, startTracing, traceRequestListener, wrapRequest, type Tracing } from '@pintrace/tracer';

/**
 * Interop acceptance: real zipkin-js (express + fetch instrumentation) and OpenTelemetry SDK
 * (NodeTracerProvider + instrumentation-http) services, each in its own process, sit upstream and
 * downstream of our services; every chain must produce one trace whose hops link up (the server
 * span of each hop shares, or is a child of, the caller's client span).
 */
type PeerKind = 'zipkin' | 'otel-b3' | 'otel-w3c' | 'ours' | 'ours-w3c-only';

interface SpanRecord {
  traceId: string;
  id: string;
  parentId?: string;
  kind?: string;
  service: string;
}

interface Service {
  name: string;
  url: string;
  spans(): SpanRecord[];
  stop(): Promise<void>;
}

const tracerDir = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'interop-'));
const running: Service[] = [];
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
});

function startPeer(kind: 'zipkin' | 'otel-b3' | 'otel-w3c', name: string, downstream?: string): Promise<Service> {
  const spansFile = join(work, `${name}.jsonl`);
  const script = kind === 'zipkin' ? 'zipkin-js-service.cjs' : 'otel-service.cjs';
  const env = { ...process.env, NAME: name, SPANS_FILE: spansFile, PROPAGATOR: kind === 'otel-b3' ? 'b3' : 'w3c', DOWNSTREAM: downstream ?? '' };
  const child: ChildProcess = spawn(process.execPath, [join(tracerDir, 'test/interop/peers', script)], {
    cwd: tracerDir,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`${kind} peer exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (!match) return;
      child.removeAllListeners('exit');
      const service: Service = {
        name,
        url: `http://127.0.0.1:${match[1]}/`,
        spans: () =>
          existsSync(spansFile)
            ? readFileSync(spansFile, 'utf8')
                .split('\n')
                .filter(Boolean)
                .map((line) => {
                  const s = JSON.parse(line) as SpanRecord & { localEndpoint?: unknown };
                  return { traceId: s.traceId, id: s.id, parentId: s.parentId, kind: s.kind, service: name };
                })
            : [],
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      };
      running.push(service);
      resolve(service);
    });
  });
}

async function startOurs(name: string, downstream: string | undefined, w3cOnly: boolean): Promise<Service> {
  const sink = new InMemorySpanSink();
  const tracing: Tracing = startTracing({
    serviceName: name,
    sink,
    sampler: ALWAYS_SAMPLE,
    registerGlobal: false,
    logger: silentLogger,
    b3Inject: w3cOnly ? 'none' : 'multi',
  });
  const request = wrapRequest(tracing, http.request);
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer(
    traceRequestListener(tracing, (_req, res) => {
      const reply = (body: unknown): void => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(body));
      };
      if (!downstream) return reply({ name });
      request(downstream, { agent }, (r) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (text += c));
        r.on('end', () => reply({ name, downstream: JSON.parse(text) }));
      })
        .on('error', (err) => reply({ error: String(err) }))
        .end();
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const service: Service = {
    name,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    spans: () => sink.spans().map((s) => ({ traceId: s.traceId, id: s.id, parentId: s.parentId, kind: s.kind, service: name })),
    stop: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await tracing.shutdown();
    },
  };
  running.push(service);
  return service;
}

async function runChain(kinds: PeerKind[]): Promise<SpanRecord[][]> {
  const services: Service[] = [];
  let downstream: string | undefined;
  for (let i = kinds.length - 1; i >= 0; i--) {
    const kind = kinds[i];
    const name = `${kind}-${i}-${Math.random().toString(36).slice(2, 6)}`;
    const service =
      kind === 'ours' || kind === 'ours-w3c-only' ? await startOurs(name, downstream, kind === 'ours-w3c-only') : await startPeer(kind, name, downstream);
    services.unshift(service);
    downstream = service.url;
  }
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get(services[0].url, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
  expect(JSON.parse(body)).toHaveProperty('downstream.downstream');
  // each service reports a server span, and all but the last a client span
  const expected = (i: number) => (i === services.length - 1 ? 1 : 2);
  const deadline = Date.now() + 5000;
  while (services.some((s, i) => s.spans().length < expected(i)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return services.map((s) => s.spans());
}

/** 64-bit ids may travel left-padded to 32 characters (W3C, OTel B3): compare their low half. */
const norm = (traceId: string) => (traceId.length === 32 && traceId.startsWith('0000000000000000') ? traceId.slice(16) : traceId);

function expectOneLinkedTrace(perService: SpanRecord[][]): void {
  const all = perService.flat();
  expect(new Set(all.map((s) => norm(s.traceId))).size, JSON.stringify(all)).toBe(1);
  for (let i = 0; i < perService.length; i++) {
    const server = perService[i].find((s) => s.kind === 'SERVER');
    expect(server, `server span of hop ${i}`).toBeDefined();
    if (i === 0) expect(server!.parentId).toBeUndefined();
    if (i === perService.length - 1) continue;
    const client = perService[i].find((s) => s.kind === 'CLIENT')!;
    expect(client.parentId, `client of hop ${i} under its server span`).toBe(server!.id);
    const next = perService[i + 1].find((s) => s.kind === 'SERVER')!;
    // B3 peers join the caller's span (same id, Zipkin style); W3C peers make a child
    expect(next.id === client.id || next.parentId === client.id, `hop ${i} → ${i + 1}: ${JSON.stringify({ client, next })}`).toBe(true);
  }
}

describe('interop with zipkin-js and the OpenTelemetry SDK (real services, one trace per chain)', () => {
  it.each<[string, PeerKind[]]>([
    ['zipkin-js → ours → zipkin-js (B3)', ['zipkin', 'ours', 'zipkin']],
    ['ours → zipkin-js → ours (B3)', ['ours', 'zipkin', 'ours']],
    ['OTel → ours → OTel (B3 multi)', ['otel-b3', 'ours', 'otel-b3']],
    ['ours → OTel → ours (B3 multi)', ['ours', 'otel-b3', 'ours']],
    ['OTel → ours → OTel (W3C)', ['otel-w3c', 'ours', 'otel-w3c']],
    ['ours → OTel → ours (W3C only)', ['ours-w3c-only', 'otel-w3c', 'ours-w3c-only']],
  ])(
    '%s',
    async (_name, kinds) => {
      expectOneLinkedTrace(await runChain(kinds));
    },
    20_000,
  );
});
