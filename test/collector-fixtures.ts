/** Trace generators and helpers shared by the collector's integration tests (the burst's are in bench/lib/burst.mjs). */
import { readFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Span } from '@pintrace/model';

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/**
 * A multi-service trace: web → api (shared span ids), api → db (with an error tag when `error`),
 * api → broker (producer) → worker (consumer), a local span, annotations and tags that
 * autocomplete and annotation queries can find. Service names start with `prefix`.
 */
export function multiServiceTrace(prefix: string, opts: { error?: boolean; nowMicros?: number; path?: string; slow?: boolean } = {}): Span[] {
  const traceId = hex(16);
  const t = opts.nowMicros ?? (Date.now() - 60_000) * 1000;
  const [root, call, local, db, produce, consume] = Array.from({ length: 6 }, () => hex(8));
  const web = { serviceName: `${prefix}-web`, ipv4: '10.0.0.1' };
  const api = { serviceName: `${prefix}-api`, ipv4: '10.0.0.2', port: 8080 };
  const path = opts.path ?? '/items';
  const total = opts.slow ? 900_000 : 90_000;
  return [
    {
      traceId,
      id: root!,
      kind: 'SERVER',
      name: `get ${path}`,
      timestamp: t,
      duration: total,
      localEndpoint: web,
      tags: { 'http.method': 'GET', 'http.path': path },
    },
    {
      traceId,
      parentId: root,
      id: call!,
      kind: 'CLIENT',
      name: 'get',
      timestamp: t + 1_000,
      duration: total - 10_000,
      localEndpoint: web,
      remoteEndpoint: api,
      annotations: [{ timestamp: t + 1_500, value: 'wire.send' }],
    },
    {
      traceId,
      parentId: root,
      id: call!,
      kind: 'SERVER',
      name: 'get',
      shared: true,
      timestamp: t + 2_000,
      duration: total - 20_000,
      localEndpoint: api,
      remoteEndpoint: web,
    },
    { traceId, parentId: call, id: local!, name: 'render', timestamp: t + 3_000, duration: 5_000, localEndpoint: api },
    {
      traceId,
      parentId: call,
      id: db!,
      kind: 'CLIENT',
      name: 'select',
      timestamp: t + 10_000,
      duration: 20_000,
      localEndpoint: api,
      remoteEndpoint: { serviceName: `${prefix}-db`, ipv4: '10.0.0.3', port: 5432 },
      ...(opts.error ? { tags: { error: 'timeout' } } : {}),
    },
    {
      traceId,
      parentId: call,
      id: produce!,
      kind: 'PRODUCER',
      name: 'send',
      timestamp: t + 40_000,
      duration: 1_000,
      localEndpoint: api,
      remoteEndpoint: { serviceName: `${prefix}-broker` },
    },
    {
      traceId,
      parentId: produce,
      id: consume!,
      kind: 'CONSUMER',
      name: 'receive',
      timestamp: t + 45_000,
      duration: 2_000,
      localEndpoint: { serviceName: `${prefix}-worker` },
      remoteEndpoint: { serviceName: `${prefix}-broker` },
    },
  ] as Span[];
}

const testdataDir = fileURLToPath(new URL('./fixtures/zipkin-testdata/', import.meta.url));

/**
 * Zipkin's public sample traces, each with a fresh trace ID and timestamps shifted so that its
 * latest moment is `endMicros`.
 */
export function zipkinSampleTraces(endMicros: number): Array<{ file: string; spans: Span[] }> {
  return readdirSync(testdataDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const raw = JSON.parse(readFileSync(`${testdataDir}${file}`, 'utf8')) as Span[];
      let latest = 0;
      for (const s of raw) {
        if (s.timestamp !== undefined) latest = Math.max(latest, s.timestamp + (s.duration ?? 0));
        for (const a of s.annotations ?? []) latest = Math.max(latest, a.timestamp);
      }
      const shift = endMicros - latest;
      const ids = new Map<string, string>();
      const spans = raw.map((s) => {
        if (!ids.has(s.traceId)) ids.set(s.traceId, hex(s.traceId.length === 32 ? 16 : 8));
        const out: Span = { ...s, traceId: ids.get(s.traceId)! };
        if (s.timestamp !== undefined) out.timestamp = s.timestamp + shift;
        if (s.annotations) out.annotations = s.annotations.map((a) => ({ ...a, timestamp: a.timestamp + shift }));
        return out;
      });
      return { file, spans };
    });
}

/** JSON with object keys sorted, to compare spans regardless of key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
