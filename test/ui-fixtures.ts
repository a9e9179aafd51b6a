/**
 * Shared by the ui-proxy integration tests and bench/ui: randomised multi-service traces under
 * unique service names, written with our ElasticsearchSpanWriter into the default `zipkin`
 * indices (so the devstack's zipkin-server reads them too), dependency-link documents in
 * zipkin-dependencies' format, and an in-process ui-proxy.
 */
import path from 'node:path';
import type { Span } from '@pintrace/model';
import { createLogger, resolveConfig } from '@pintrace/runtime';
import { createEsHttp, ElasticsearchSpanWriter, IndexNameFormatter } from '@pintrace/storage';
import { startUiProxy, uiOptions, type UiProxy } from '@pintrace/ui-proxy';
import { esUrl } from './support/servers.js';
import { seededRandom as rng } from './support/random.js';

export const AUTOCOMPLETE_KEYS = ['http.method', 'http.path', 'error'];

export { rng };

export interface Dataset {
  services: string[];
  traces: Span[][];
  /** Trace ids whose spans have no timestamp (only findable by id). */
  untimed: string[];
  links: Array<{ parent: string; child: string; callCount: number; errorCount: number }>;
}

/** Randomised traces across five services named `<tag>-*`, started within the last `windowMs`. */
export function randomDataset(tag: string, count: number, seed: number, windowMs = 90 * 60_000): Dataset {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const hexOf = (n: number): string => {
    let s = '';
    while (s.length < n) s += Math.floor(r() * 16).toString(16);
    return s.startsWith('0') ? `a${s.slice(1)}` : s;
  };
  const services = ['gateway', 'users', 'orders', 'db', 'cache'].map((s) => `${tag}-${s}`);
  const [gateway, users, orders, db, cache] = services as [string, string, string, string, string];
  const calls: Record<string, string[]> = { [gateway]: [users, orders], [users]: [db, cache], [orders]: [db, users], [db]: [], [cache]: [] };
  const leaves = new Set([db, cache]);
  const now = Date.now();
  const traces: Span[][] = [];
  const untimed: string[] = [];
  for (let t = 0; t < count; t++) {
    const traceId = r() < 0.25 ? hexOf(16) : hexOf(32);
    const start = (now - Math.floor(r() * windowMs)) * 1000;
    const spans: Span[] = [];
    const endpoint = (serviceName: string) => ({ serviceName, ipv4: `10.0.0.${1 + services.indexOf(serviceName)}` });
    const serve = (svc: string, id: string, parentId: string | undefined, ts: number, dur: number, depth: number, name: string): void => {
      const tags: Record<string, string> = { 'http.method': pick(['GET', 'POST']), 'http.path': `/${name.split(' ')[1] ?? name}` };
      if (r() < 0.15) tags.error = pick(['true', 'timeout', '💥 failed']);
      if (r() < 0.3) tags[`${tag}.k`] = `v${Math.floor(r() * 4)}`;
      const span: Span = { traceId, id, kind: 'SERVER', name, timestamp: ts, duration: dur, localEndpoint: endpoint(svc), tags };
      if (parentId !== undefined) span.parentId = parentId;
      if (r() < 0.3) span.annotations = [{ timestamp: ts + 1, value: pick(['retry', 'cache.miss', 'wr']) }];
      spans.push(span);
      if (depth >= 3) return;
      let at = ts + 10;
      for (const callee of calls[svc]!) {
        if (r() < 0.35) continue;
        const clientId = hexOf(16);
        const callDur = Math.max(2, Math.floor((dur / 3) * r()));
        const callName = leaves.has(callee) ? pick(['query', 'get', 'set']) : pick(['get /items', 'post /items', 'get /me']);
        const client: Span = {
          traceId,
          parentId: id,
          id: clientId,
          kind: 'CLIENT',
          name: callName,
          timestamp: at,
          duration: callDur,
          localEndpoint: endpoint(svc),
          remoteEndpoint: { serviceName: callee, port: 8000 + services.indexOf(callee) },
        };
        if (r() < 0.1) client.tags = { error: 'true' };
        spans.push(client);
        if (!leaves.has(callee)) serve(callee, clientId, id, at + 1, Math.max(1, callDur - 2), depth + 1, callName);
        at += callDur + 1;
      }
    };
    serve(gateway, hexOf(16), undefined, start, 1000 + Math.floor(r() * 2_000_000), 0, pick(['get /', 'post /orders', 'get /users']));
    traces.push(spans);
  }
  // One trace without timestamps: invisible to searches, but found by id.
  const untimedId = hexOf(32);
  untimed.push(untimedId);
  traces.push([{ traceId: untimedId, id: hexOf(16), name: 'untimed', localEndpoint: { serviceName: services[0]! } }]);
  const links = [
    { parent: gateway, child: users, callCount: 10 + Math.floor(r() * 50), errorCount: 0 },
    { parent: gateway, child: orders, callCount: 5 + Math.floor(r() * 20), errorCount: 2 },
    { parent: users, child: db, callCount: 30, errorCount: 1 },
    { parent: orders, child: users, callCount: 7, errorCount: 0 },
    { parent: users, child: cache, callCount: 40, errorCount: 0 },
  ];
  return { services, traces, untimed, links };
}

/**
 * Writes spans (our writer, `zipkin` indices, autocomplete on) and link docs for today and
 * yesterday, into the shared devstack's store unless `es` names another (a private OpenSearch).
 */
export async function writeDataset(data: Dataset, es: string = esUrl): Promise<void> {
  const http = createEsHttp({ url: es });
  try {
    const writer = new ElasticsearchSpanWriter({
      http,
      refresh: 'wait_for',
      templates: { shards: 1, replicas: 0 },
      autocomplete: { keys: AUTOCOMPLETE_KEYS },
    });
    const result = await writer.write(data.traces.flat());
    await writer.shutdown();
    if (result.failed.length > 0) throw new Error(`span writes failed: ${JSON.stringify(result.failed[0])}`);
    const names = new IndexNameFormatter();
    const lines: string[] = [];
    for (const [dayOffset, share] of [
      [0, 1],
      [1, 2],
    ] as const) {
      const index = names.formatTypeAndTimestampForInsert('dependency', '-', Date.now() - dayOffset * 86_400_000);
      for (const l of data.links) {
        const id = `${l.parent}|${l.child}`;
        lines.push(JSON.stringify({ index: { _index: index, _id: id } }));
        lines.push(JSON.stringify({ id, parent: l.parent, child: l.child, callCount: Math.ceil(l.callCount / share), errorCount: l.errorCount }));
      }
    }
    const res = await http.request({ method: 'POST', path: '/_bulk?refresh=wait_for', body: `${lines.join('\n')}\n`, ndjson: true });
    if (res.status !== 200 || (res.body as { errors?: boolean }).errors) throw new Error(`link writes failed: ${JSON.stringify(res.body).slice(0, 500)}`);
  } finally {
    await http.close();
  }
}

/** An in-process ui-proxy on a free port against the devstack's store (`flags.es` for another). */
export async function startTestProxy(flags: Record<string, unknown> = {}): Promise<UiProxy> {
  const lensDir = path.resolve('var', 'lens');
  const config = resolveConfig(uiOptions, {
    flags: { port: 0, es: esUrl, autocompleteKeys: AUTOCOMPLETE_KEYS.join(','), lensDir, ...flags },
    env: {},
  });
  return startUiProxy(config, { log: createLogger('ui-proxy', { level: process.env.PINTRACE_LOG_LEVEL ?? 'warn' }) });
}

/** Spans ordered canonically (the API leaves span order within a trace open). */
export function canonicalTrace(spans: unknown[]): string[] {
  return spans.map((s) => JSON.stringify(s)).sort();
}

/** Traces ordered canonically by trace id, spans canonically inside. */
export function canonicalTraces(traces: unknown[][]): string[][] {
  return traces.map(canonicalTrace).sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
}
