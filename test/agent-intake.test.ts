import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { context, defaultTextMapSetter, trace, SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo } from '@pintrace/demo';
import type { Span } from '@pintrace/model';
import { ALWAYS_SAMPLE } from '@pintrace/sampler';
import { silentLogger, startTracing } from '@pintrace/tracer';
import { agentArgs, collectorArgs, intakeArgs } from './support/part-args.js';
import { buildJavaPeer, pythonBin, pythonPeer, startPeer, type Peer } from './support/peers.js';
import { freePort, metric } from './support/ports.js';
import { privateDevstack } from './support/private-devstack.js';
import { startPart, type RunningPart } from './support/processes.js';
import { eventually, getJson, uniqueName } from './support/servers.js';

/**
 * The agent's intake with real SDKs, end to end on a private devstack (block 2.5: Kafka :34092,
 * Elasticsearch :34200, zipkin-server :34411): Python's OpenTelemetry SDK over OTLP/HTTP, Java's
 * over OTLP/gRPC, Brave over Zipkin JSON → agent spool → Kafka → collector → Elasticsearch, read
 * back from zipkin-server and from the ui-proxy. And the Kafka key: one trace sent through every
 * producer lands in one partition.
 */
const run = promisify(execFile);
const pd = privateDevstack('otlp-intake', 2.5, ['kafka', 'elasticsearch', 'zipkin'], { heap: '384m', partitions: 6 });

describe('agent intake with real SDKs', () => {
  const topic = uniqueName('intake');
  const spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-intake-'));
  const ports = { otlpHttp: 0, otlpGrpc: 0, zipkin: 0, metrics: 0, ui: 0 };
  let agent: RunningPart;
  let collector: RunningPart;
  let ui: RunningPart;
  let python: Peer | undefined;
  let java: Peer | undefined;

  beforeAll(async () => {
    const javaClasspath = buildJavaPeer();
    await pd.start();
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    collector = startPart(
      'intake-collector',
      collectorArgs({ kafka: pd.kafka, es: pd.es, topic, groupId: `${topic}-collector`, indexReplicas: 0, metricsPort: 0 }),
    );
    agent = startPart(
      'intake-agent',
      agentArgs(
        { kafka: pd.kafka, topic, spansDir, metricsPort: ports.metrics, pollIntervalMs: 100 },
        ...intakeArgs({ otlpHttpPort: ports.otlpHttp, otlpGrpcPort: ports.otlpGrpc, zipkinPort: ports.zipkin }),
      ),
    );
    ui = startPart('intake-ui', ['ui', '--es', pd.es, '--port', String(ports.ui), '--kafka', pd.kafka, '--topic', topic]);
    await eventually(async () => ((await fetch(`http://127.0.0.1:${ports.metrics}/health`)).ok ? true : undefined), { what: 'agent health' });
    // listening is enough: its /health is DOWN until the span indices exist
    await eventually(async () => ((await fetch(`http://127.0.0.1:${ports.ui}/health`)).status > 0 ? true : undefined), { what: 'ui-proxy listening' });
    java = await startPeer(
      'java',
      ['-cp', await javaClasspath, 'JavaPeer', '0', `http://127.0.0.1:${ports.otlpGrpc}`, `http://127.0.0.1:${ports.zipkin}/api/v2/spans`, 'java-peer'],
      'Java peer',
    );
    python = await startPeer(
      pythonBin,
      [
        pythonPeer,
        'serve',
        '--endpoint',
        `http://127.0.0.1:${ports.otlpHttp}/v1/traces`,
        '--service',
        'py-peer',
        '--next',
        `http://127.0.0.1:${java.port}/work`,
      ],
      'Python peer',
    );
  });

  afterAll(async () => {
    await Promise.all([python?.stop(), java?.stop()]);
    await Promise.all([agent?.stop(), collector?.stop(), ui?.stop()]);
    await pd.stop();
  });

  const zipkinTrace = (id: string) => getJson<Span[]>(`${pd.zipkin}/api/v2/trace/${id}`).catch(() => [] as Span[]);
  const uiTrace = (id: string) => getJson<Span[]>(`http://127.0.0.1:${ports.ui}/api/v2/trace/${id}`).catch(() => [] as Span[]);

  it('Python OpenTelemetry SDK → OTLP/HTTP → agent → Kafka → Elasticsearch: every emitted trace is read back whole from zipkin-server', async () => {
    const { stdout } = await run(
      pythonBin,
      [pythonPeer, 'emit', '--endpoint', `http://127.0.0.1:${ports.otlpHttp}/v1/traces`, '--service', 'py-emit', '--traces', '20', '--spans-per-trace', '3'],
      { timeout: 120_000 },
    );
    const ids = stdout.trim().split('\n');
    expect(ids).toHaveLength(20);
    for (const id of ids) {
      const spans = await eventually(
        async () => {
          const got = await zipkinTrace(id);
          return got.length >= 3 ? got : undefined;
        },
        { what: `trace ${id}` },
      );
      expect(spans).toHaveLength(3);
      expect(spans.every((s) => s.traceId === id && s.localEndpoint?.serviceName === 'py-emit')).toBe(true);
      const root = spans.find((s) => s.parentId === undefined)!;
      expect(root).toMatchObject({ kind: 'SERVER', name: 'root' });
      expect(spans.filter((s) => s.parentId === root.id)).toHaveLength(2);
    }
    expect(await metric(ports.metrics, 'pintrace_agent_intake_spans_total', { protocol: 'otlp_http' })).toBeGreaterThanOrEqual(60);
  });

  it('a request crossing Node (our tracer) → Python (OTel, W3C traceparent) → Java (OTel over gRPC, and Brave over Zipkin JSON) is one trace in zipkin-server and in the ui-proxy', async () => {
    const tracing = startTracing({
      serviceName: 'node-front',
      spansDir,
      sampler: ALWAYS_SAMPLE,
      registerGlobal: false,
      logger: silentLogger,
      traceId128Bit: true,
    });
    let traceId: string;
    try {
      const root = tracing.tracer.startSpan('GET /front', { kind: SpanKind.SERVER });
      const rootCtx = trace.setSpan(context.active(), root);
      const client = tracing.tracer.startSpan('call python', { kind: SpanKind.CLIENT }, rootCtx);
      const headers: Record<string, string> = {};
      tracing.propagator.inject(trace.setSpan(rootCtx, client), headers, defaultTextMapSetter);
      expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const res = await fetch(`http://127.0.0.1:${python!.port}/call`, { headers });
      expect(res.status).toBe(200);
      traceId = await res.text();
      expect(traceId).toBe(root.spanContext().traceId);
      client.end();
      root.end();
    } finally {
      await tracing.shutdown();
    }
    expect((await fetch(`http://127.0.0.1:${python!.port}/flush`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${java!.port}/flush`, { method: 'POST' })).status).toBe(200);

    const services = (spans: Span[]) => spans.map((s) => s.localEndpoint?.serviceName).sort();
    const want = ['java-peer', 'java-peer-brave', 'node-front', 'node-front', 'py-peer', 'py-peer'];
    const fromZipkin = await eventually(
      async () => {
        const spans = await zipkinTrace(traceId);
        return spans.length >= 6 ? spans : undefined;
      },
      { what: 'the cross-language trace in zipkin-server' },
    );
    expect(services(fromZipkin)).toEqual(want);
    const byName = (name: string) => fromZipkin.find((s) => s.name === name)!;
    // one tree: node server → node client → python server → python client → java server → brave client
    expect(byName('call python').parentId).toBe(byName('get /front').id);
    expect(byName('get /call').parentId).toBe(byName('call python').id);
    expect(byName('call java').parentId).toBe(byName('get /call').id);
    expect(byName('get /work').parentId).toBe(byName('call java').id);
    expect(byName('query')).toMatchObject({ parentId: byName('get /work').id, kind: 'CLIENT', remoteEndpoint: { serviceName: 'db' } });
    expect(byName('call java').remoteEndpoint).toEqual({ serviceName: 'java-peer', ipv4: '127.0.0.1' });

    const fromUi = await eventually(
      async () => {
        const spans = await uiTrace(traceId);
        return spans.length >= 6 ? spans : undefined;
      },
      { what: 'the cross-language trace in the ui-proxy' },
    );
    const sorted = (spans: Span[]) => [...spans].sort((a, b) => a.id.localeCompare(b.id));
    expect(sorted(fromUi)).toEqual(sorted(fromZipkin));
    expect(await metric(ports.metrics, 'pintrace_agent_intake_spans_total', { protocol: 'otlp_grpc' })).toBeGreaterThanOrEqual(1);
    expect(await metric(ports.metrics, 'pintrace_agent_intake_spans_total', { protocol: 'zipkin' })).toBeGreaterThanOrEqual(1);
  });

  it('one Kafka key for every producer: a trace sent as 128-bit and 64-bit ids through the span file, the OTLP and Zipkin intake and the ui-proxy lands in one partition', async () => {
    const traceId = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
    const low = traceId.slice(16);
    const span = (id: string, tid: string, service: string) => ({
      traceId: tid,
      id,
      name: 'keyed',
      timestamp: Date.now() * 1000,
      duration: 5,
      localEndpoint: { serviceName: service },
    });
    appendFileSync(path.join(spansDir, 'key-file.jsonl'), `${JSON.stringify(span('00000000000000f1', traceId, 'file'))}\n`);
    const otlp = await fetch(`http://127.0.0.1:${ports.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otlp' } }] },
            scopeSpans: [
              {
                spans: [
                  { traceId, spanId: '00000000000000f2', name: 'keyed', startTimeUnixNano: `${Date.now()}000000`, endTimeUnixNano: `${Date.now()}000500` },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(otlp.status).toBe(200);
    const post = (url: string, spans: unknown[]) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spans) });
    expect((await post(`http://127.0.0.1:${ports.zipkin}/api/v2/spans`, [span('00000000000000f3', low, 'zipkin-intake')])).status).toBe(202);
    expect((await post(`http://127.0.0.1:${ports.ui}/api/v2/spans`, [span('00000000000000f4', low, 'ui-64')])).status).toBe(202);
    expect((await post(`http://127.0.0.1:${ports.ui}/api/v2/spans`, [span('00000000000000f5', traceId, 'ui-128')])).status).toBe(202);

    const found = await eventually(
      async () => {
        const { stdout } = await run('kcat', ['-b', pd.kafka, '-t', topic, '-C', '-e', '-q', '-f', '%p %k %s\n'], {
          timeout: 60_000,
          maxBuffer: 256 * 1024 * 1024,
        });
        const mine = stdout.split('\n').filter((line) => line.includes(low));
        const ids = new Set(mine.flatMap((line) => [...line.matchAll(/"id":"(00000000000000f[1-5])"/g)].map((m) => m[1])));
        return ids.size === 5 ? mine : undefined;
      },
      { what: 'all five spans in the topic', timeoutMs: 90_000 },
    );
    const partitions = new Set(found.map((line) => line.split(' ')[0]));
    const keys = new Set(found.map((line) => line.split(' ')[1]));
    expect(keys).toEqual(new Set([low]));
    expect(partitions.size).toBe(1);
  });

  it('answers 10,000 malformed requests with 400 and their reason, counts them, and keeps taking the valid traffic sent alongside', async () => {
    const url = `http://127.0.0.1:${ports.otlpHttp}/v1/traces`;
    const json = (spans: unknown[]) => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
    const okSpan = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'x' };
    // field 1 (resource_spans) announced with 127 bytes, then cut short
    const truncated = Buffer.from([0x0a, 0x7f, 0x0a, 0x05, 0x01, 0x02]);
    const kinds: { reason: string; status: number; init: () => RequestInit }[] = [
      { reason: 'truncated_protobuf', status: 400, init: () => ({ headers: { 'content-type': 'application/x-protobuf' }, body: truncated }) },
      { reason: 'content_type', status: 415, init: () => ({ headers: { 'content-type': 'text/xml' }, body: '<spans/>' }) },
      {
        reason: 'invalid_trace_id',
        status: 400,
        init: () => ({ headers: { 'content-type': 'application/json' }, body: json([{ ...okSpan, traceId: 'not-hex' }]) }),
      },
      {
        reason: 'invalid_span_id',
        status: 400,
        init: () => ({ headers: { 'content-type': 'application/json' }, body: json([{ ...okSpan, spanId: '0000000000000000' }]) }),
      },
      { reason: 'empty_body', status: 400, init: () => ({ headers: { 'content-type': 'application/json' }, body: '' }) },
      { reason: 'malformed_json', status: 400, init: () => ({ headers: { 'content-type': 'application/json' }, body: '{"resourceSpans":[{' }) },
    ];
    const oversized = {
      reason: 'span_too_large',
      status: 400,
      init: () => ({
        headers: { 'content-type': 'application/json' },
        body: json([{ ...okSpan, attributes: [{ key: 'big', value: { stringValue: 'x'.repeat(1_100_000) } }] }]),
      }),
    };
    const before = await metric(ports.metrics, 'pintrace_agent_intake_rejected_total', { protocol: 'otlp_http' });
    const valid = run(pythonBin, [pythonPeer, 'emit', '--endpoint', url, '--service', 'py-alongside', '--traces', '30', '--spans-per-trace', '2'], {
      timeout: 180_000,
    });
    const statuses = new Map<string, number>();
    let next = 0;
    const total = 10_000;
    const worker = async () => {
      for (let i = next++; i < total; i = next++) {
        const kind = i % 500 === 0 ? oversized : kinds[i % kinds.length]!;
        const res = await fetch(url, { method: 'POST', ...kind.init() });
        const body = await res.text();
        const seen =
          res.status === kind.status && (kind.status !== 400 || body.includes(kind.reason))
            ? 'as expected'
            : `${kind.reason}: ${res.status} ${body.slice(0, 80)}`;
        statuses.set(seen, (statuses.get(seen) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(Object.fromEntries(statuses)).toEqual({ 'as expected': total });
    const after = await metric(ports.metrics, 'pintrace_agent_intake_rejected_total', { protocol: 'otlp_http' });
    expect(after - before).toBe(total);
    for (const reason of ['truncated_protobuf', 'content_type', 'invalid_trace_id', 'invalid_span_id', 'empty_body', 'malformed_json', 'span_too_large']) {
      expect(await metric(ports.metrics, 'pintrace_agent_intake_rejected_total', { protocol: 'otlp_http', reason }), reason).toBeGreaterThan(0);
    }
    const ids = (await valid).stdout.trim().split('\n');
    expect(ids).toHaveLength(30);
    for (const id of ids) {
      await eventually(async () => ((await zipkinTrace(id)).length === 2 ? true : undefined), { what: `valid trace ${id}` });
    }
    expect(agent.child.exitCode).toBeNull();
  });

  it('the demo with its Python recommender (OTLP to the intake) shows a polyglot dependency graph: frontend → backend (Thrift) and frontend → recommender', async () => {
    const demo = await startDemo({ spansDir, recommender: { python: pythonBin, otlpEndpoint: `http://127.0.0.1:${ports.otlpHttp}/v1/traces` } });
    try {
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${demo.frontendUrl}/?n=5`);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { recommended?: string[] }).recommended).toHaveLength(3);
      }
      await demo.flush();
    } finally {
      await demo.shutdown(); // the recommender's SDK flushes on the way out
    }
    const links = await eventually(
      async () => {
        const got = await getJson<{ parent: string; child: string; callCount: number }[]>(
          `http://127.0.0.1:${ports.ui}/api/v2/dependencies?endTs=${Date.now()}&lookback=3600000`,
        );
        // The five traces close at different times (the recommender's SDK exports its spans at
        // shutdown, reopening some traces' windows) and each owner's totals flush on their own,
        // so the first read can hold only part of the calls: wait for all five.
        const recommender = got.find((l) => l.parent === 'frontend' && l.child === 'recommender');
        return recommender !== undefined && recommender.callCount >= 5 && got.some((l) => l.parent === 'frontend' && l.child === 'backend') ? got : undefined;
      },
      { what: 'frontend → recommender (5 calls) and frontend → backend links', timeoutMs: 120_000, intervalMs: 2000 },
    );
    expect(links.find((l) => l.parent === 'frontend' && l.child === 'recommender')!.callCount).toBeGreaterThanOrEqual(5);
  });
});
