import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/index.js';
import { ExportTraceServiceRequest, RetryInfo, RpcStatus, ZipkinListOfSpans } from '../../src/intake/protos.js';
import { FakeProducer } from '../fake-producer.js';
import { start, tempDir, waitFor } from '../helpers.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';

/** An ExportTraceServiceRequest object (protobufjs form) with one span per id. */
function request(spanIds: string[], traceId = TRACE, service = 'py-svc') {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            scope: { name: 'test', version: '1' },
            spans: spanIds.map((id) => ({
              traceId: Buffer.from(traceId, 'hex'),
              spanId: Buffer.from(id, 'hex'),
              name: 'GET /x',
              kind: 2,
              startTimeUnixNano: 1_700_000_000_000_000_000n.toString(),
              endTimeUnixNano: 1_700_000_000_001_000_000n.toString(),
              status: { code: 2, message: 'boom' },
            })),
          },
        ],
      },
    ],
  };
}

const protobufBody = (spanIds: string[], traceId?: string) =>
  Buffer.from(ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(request(spanIds, traceId))).finish());

function jsonBody(spanIds: string[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'json-svc' } }] },
        scopeSpans: [
          {
            scope: { name: 'j' },
            spans: spanIds.map((id) => ({
              traceId: TRACE.toUpperCase(),
              spanId: id,
              name: 'op',
              kind: 3,
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000000000500000',
              attributes: [{ key: 'n', value: { intValue: '42' } }],
            })),
          },
        ],
      },
    ],
  });
}

describe('agent intake', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let agent: Agent;
  let producer: FakeProducer;
  const base = () => `http://127.0.0.1:${agent.intake!.otlpHttpPort}`;
  const zipkinBase = () => `http://127.0.0.1:${agent.intake!.zipkinPort}`;
  const shipped = () =>
    producer.acked.flatMap((b) =>
      b.messages.map((m) => ({
        key: String(m.key),
        spans: JSON.parse(String(m.value)) as { id: string; traceId: string; tags?: Record<string, string>; localEndpoint?: { serviceName?: string } }[],
      })),
    );
  const shippedIds = () => shipped().flatMap((m) => m.spans.map((s) => s.id));
  const metric = async (name: string, labels: Record<string, string>) => {
    const m = (await agent.registry.getMetricsAsJSON()).find((x) => x.name === name);
    return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)).reduce((n, v) => n + v.value, 0);
  };

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await agent?.shutdown();
    await cleanup();
  });

  const run = async (overrides: Record<string, unknown> = {}) => {
    ({ agent, producer } = await start(dir, new FakeProducer(), { intake: 'true', otlpHttpPort: '0', otlpGrpcPort: '0', zipkinPort: '0', ...overrides }));
  };

  it('takes OTLP/HTTP protobuf and JSON, answers in kind, and ships the spans keyed by the low 64 bits of the trace id', async () => {
    await run();
    const pb = await fetch(`${base()}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: protobufBody(['0000000000000001', '0000000000000002']),
    });
    expect(pb.status).toBe(200);
    expect(pb.headers.get('content-type')).toBe('application/x-protobuf');
    const js = await fetch(`${base()}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(jsonBody(['0000000000000003'])),
    });
    expect(js.status).toBe(200);
    expect(await js.json()).toEqual({});
    await waitFor(() => shippedIds().length === 3, 5000, 'three spans shipped');
    const messages = shipped();
    expect(new Set(messages.map((m) => m.key))).toEqual(new Set(['8448eb211c80319c']));
    const spans = messages.flatMap((m) => m.spans);
    expect(spans.every((s) => s.traceId === TRACE)).toBe(true);
    const first = spans.find((s) => s.id === '0000000000000001')!;
    expect(first.localEndpoint).toEqual({ serviceName: 'py-svc' });
    expect(first.tags).toMatchObject({ error: 'true', 'otel.status_code': 'STATUS_CODE_ERROR', 'otel.library.name': 'test' });
    expect(spans.find((s) => s.id === '0000000000000003')!.tags).toMatchObject({ n: '42' });
    expect(await metric('pintrace_agent_intake_spans_total', { protocol: 'otlp_http' })).toBe(3);
  });

  it('takes Zipkin JSON v2 and proto3 on its own port and answers 202', async () => {
    await run();
    const json = await fetch(`${zipkinBase()}/api/v2/spans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ traceId: '8448eb211c80319c', id: '0000000000000010', name: 'z', localEndpoint: { serviceName: 'brave' } }]),
    });
    expect(json.status).toBe(202);
    const list = ZipkinListOfSpans.encode(
      ZipkinListOfSpans.fromObject({
        spans: [
          {
            traceId: Buffer.from(TRACE, 'hex'),
            id: Buffer.from('0000000000000011', 'hex'),
            kind: 2,
            name: 'p',
            timestamp: '1700000000000000',
            duration: '5',
            localEndpoint: { serviceName: 'go', ipv4: Buffer.from([10, 0, 0, 1]) },
            tags: { a: 'b' },
          },
        ],
      }),
    ).finish();
    const proto = await fetch(`${zipkinBase()}/api/v2/spans`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from(list),
    });
    expect(proto.status).toBe(202);
    await waitFor(() => shippedIds().length === 2, 5000, 'two spans shipped');
    // a 64-bit and a 128-bit form of one trace share the key
    expect(new Set(shipped().map((m) => m.key))).toEqual(new Set(['8448eb211c80319c']));
    const p = shipped()
      .flatMap((m) => m.spans)
      .find((s) => s.id === '0000000000000011') as unknown as Record<string, unknown>;
    expect(p).toMatchObject({
      traceId: TRACE,
      kind: 'SERVER',
      timestamp: 1700000000000000,
      duration: 5,
      localEndpoint: { serviceName: 'go', ipv4: '10.0.0.1' },
      tags: { a: 'b' },
    });
  });

  it('takes OTLP/gRPC and refuses a malformed request with INVALID_ARGUMENT', async () => {
    await run();
    const client = new grpc.Client(`127.0.0.1:${agent.intake!.otlpGrpcPort}`, grpc.credentials.createInsecure());
    const call = (body: Buffer) =>
      new Promise<{ err: grpc.ServiceError | null }>((resolve) => {
        client.makeUnaryRequest(
          '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
          (b: Buffer) => b,
          (b: Buffer) => b,
          body,
          (err) => resolve({ err }),
        );
      });
    try {
      expect((await call(protobufBody(['0000000000000021']))).err).toBeNull();
      const bad = await call(protobufBody(['0000000000000022']).subarray(0, 20));
      expect(bad.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(bad.err?.details).toMatch(/^truncated_protobuf: /);
      await waitFor(() => shippedIds().includes('0000000000000021'), 5000, 'gRPC span shipped');
      expect(await metric('pintrace_agent_intake_rejected_total', { protocol: 'otlp_grpc', reason: 'truncated_protobuf' })).toBe(1);
    } finally {
      client.close();
    }
  });

  it('answers malformed requests with 400 and the reason, counts them by reason, and keeps serving', async () => {
    await run({ maxLineBytes: '2048' });
    const post = (body: string | Buffer, type = 'application/x-protobuf', extra: Record<string, string> = {}) =>
      fetch(`${base()}/v1/traces`, { method: 'POST', headers: { 'content-type': type, ...extra }, body });
    const cases: [() => Promise<Response>, number, string][] = [
      [() => post(protobufBody(['0000000000000031']).subarray(0, 25)), 400, 'truncated_protobuf'],
      [() => post('{"resourceSpans":[', 'application/json'), 400, 'malformed_json'],
      [() => post('', 'application/json'), 400, 'empty_body'],
      [() => post(protobufBody(['0000000000000031'], 'abcd')), 400, 'invalid_trace_id'],
      [() => post(protobufBody(['0000000000000031'], '00000000000000000000000000000000')), 400, 'invalid_trace_id'],
      [() => post(protobufBody(['0000000000000031']), 'text/plain'), 415, 'content_type'],
      [() => post('not gzip', 'application/json', { 'content-encoding': 'gzip' }), 400, 'bad_encoding'],
      [
        () =>
          post(
            JSON.stringify({
              resourceSpans: [
                {
                  scopeSpans: [
                    { spans: [{ traceId: TRACE, spanId: '0000000000000031', attributes: [{ key: 'big', value: { stringValue: 'x'.repeat(4000) } }] }] },
                  ],
                },
              ],
            }),
            'application/json',
          ),
        400,
        'span_too_large',
      ],
    ];
    for (const [response, status, reason] of cases) {
      const r = await response();
      expect(r.status, reason).toBe(status);
      const bytes = new Uint8Array(await r.arrayBuffer());
      const body = (r.headers.get('content-type') === 'application/x-protobuf' ? RpcStatus.decode(bytes) : JSON.parse(Buffer.from(bytes).toString())) as {
        code: number;
        message: string;
      };
      expect(body.code).toBe(3);
      expect(body.message.startsWith(`${reason}: `) || status === 415, body.message).toBe(true);
      expect(await metric('pintrace_agent_intake_rejected_total', { protocol: 'otlp_http', reason }), reason).toBeGreaterThan(0);
    }
    const ok = await post(protobufBody(['0000000000000032']));
    expect(ok.status).toBe(200);
    await waitFor(() => shippedIds().includes('0000000000000032'), 5000, 'valid span after bad ones');
    expect(shippedIds()).not.toContain('0000000000000031');
  });

  it('ships every acknowledged span across spool rotations and deletes the rotated spool files once shipped', async () => {
    await run({ intakeSpoolFileBytes: '4096' });
    const ids: string[] = [];
    for (let r = 0; r < 40; r++) {
      const batch = Array.from({ length: 10 }, (_, i) => (r * 10 + i + 1).toString(16).padStart(16, '0'));
      ids.push(...batch);
      const res = await fetch(`${base()}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: protobufBody(batch) });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    await waitFor(() => new Set(shippedIds()).size === ids.length, 10_000, 'all spans shipped');
    expect(new Set(shippedIds())).toEqual(new Set(ids));
    expect(await metric('pintrace_agent_rotations_total', { stream: 'pintrace-intake.jsonl' })).toBeGreaterThan(5);
    const { readdir } = await import('node:fs/promises');
    // one more request measures the lag again, after which the shipped rotations go
    await waitFor(
      async () => {
        await fetch(`${zipkinBase()}/api/v2/spans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
        await new Promise((r) => setTimeout(r, 150));
        await (
          await fetch(`${base()}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.alloc(0) })
        ).arrayBuffer();
        return (await readdir(dir)).filter((n) => n.startsWith('pintrace-intake.jsonl.')).length === 0;
      },
      10_000,
      'rotated spool files deleted',
    );
  });

  it('answers 429 with Retry-After and gRPC RESOURCE_EXHAUSTED with RetryInfo once the unshipped spool passes its bound, and takes spans again once shipped', async () => {
    await run({ intakeSpoolMaxBytes: '2000', intakeRetryAfterSeconds: '2' });
    producer.down = true;
    const post = () =>
      fetch(`${base()}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: protobufBody(['00000000000000a1', '00000000000000a2', '00000000000000a3', '00000000000000a4', '00000000000000a5']),
      });
    let throttled: Response | undefined;
    for (let i = 0; i < 50 && throttled === undefined; i++) {
      const r = await post();
      if (r.status === 429) throttled = r;
      else {
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }
      await new Promise((res) => setTimeout(res, 120));
    }
    expect(throttled?.headers.get('retry-after')).toBe('2');
    const status = RpcStatus.decode(new Uint8Array(await throttled!.arrayBuffer())) as unknown as {
      code: number;
      details: { typeUrl: string; value: Uint8Array }[];
    };
    expect(status.code).toBe(8);
    const retry = RetryInfo.decode(status.details[0]!.value) as unknown as { retryDelay: { seconds: { toString(): string } } };
    expect(retry.retryDelay.seconds.toString()).toBe('2');

    const client = new grpc.Client(`127.0.0.1:${agent.intake!.otlpGrpcPort}`, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError | null>((resolve) => {
      client.makeUnaryRequest(
        '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        (b: Buffer) => b,
        (b: Buffer) => b,
        protobufBody(['00000000000000b1']),
        (e) => resolve(e),
      );
    });
    client.close();
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const detail = err!.metadata.get('grpc-status-details-bin')[0] as Buffer;
    expect((RpcStatus.decode(detail) as unknown as { details: { typeUrl: string }[] }).details[0]!.typeUrl).toBe('type.googleapis.com/google.rpc.RetryInfo');
    expect(await metric('pintrace_agent_intake_requests_total', { result: 'throttled' })).toBeGreaterThanOrEqual(2);

    producer.down = false;
    await waitFor(async () => (await post()).status === 200, 10_000, 'spool drained and open again');
    // every acknowledged span is in the spool file
    const spool = await readFile(agent.intake!.spoolFile, 'utf8');
    expect(spool.split('\n').filter(Boolean).length).toBeGreaterThan(5);
  });
});

describe('intake spool', () => {
  it("ends a line cut short by a crash before appending, so the next request's first span is not spoiled", async () => {
    const { Spool } = await import('../../src/intake/spool.js');
    const { dir, cleanup } = await tempDir();
    try {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(`${dir}/pintrace-intake.jsonl`, '{"traceId":"a1","id":"1"}\n{"traceId":"a1","i');
      const spool = new Spool({ dir, fsync: 'always', fsyncIntervalMs: 1000, maxBytes: 1 << 20, fileBytes: 1 << 20, shippedLag: async () => undefined });
      await spool.start();
      await spool.append(['{"traceId":"a2","id":"2"}']);
      await spool.close();
      expect((await readFile(spool.file, 'utf8')).split('\n')).toEqual(['{"traceId":"a1","id":"1"}', '{"traceId":"a1","i', '{"traceId":"a2","id":"2"}', '']);
    } finally {
      await cleanup();
    }
  });
});

describe('intake spool rotation', () => {
  it('rotates by rename at its file size and deletes rotated files once the agent has shipped them', async () => {
    const { Spool } = await import('../../src/intake/spool.js');
    const { readdir } = await import('node:fs/promises');
    const { dir, cleanup } = await tempDir();
    let lag: number | undefined;
    try {
      const spool = new Spool({ dir, fsync: 'never', fsyncIntervalMs: 1000, maxBytes: 1 << 20, fileBytes: 100, shippedLag: async () => lag });
      await spool.start();
      for (let i = 0; i < 3; i++) {
        await spool.append([`{"traceId":"a${i}","id":"${'x'.repeat(120)}"}`]);
        await new Promise((r) => setTimeout(r, 110));
      }
      expect((await readdir(dir)).filter((n) => n !== 'pintrace-intake.jsonl')).toHaveLength(2);
      lag = 10_000; // not shipped yet: kept
      await new Promise((r) => setTimeout(r, 110));
      await spool.append([]);
      expect((await readdir(dir)).filter((n) => n !== 'pintrace-intake.jsonl')).toHaveLength(2);
      lag = 0; // all shipped: rotated files go
      await new Promise((r) => setTimeout(r, 110));
      await spool.append([]);
      await waitFor(async () => (await readdir(dir)).length === 1, 2000, 'rotated files deleted');
      await spool.close();
    } finally {
      await cleanup();
    }
  });
});
