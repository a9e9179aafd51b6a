/**
 * The ui-proxy differential test, as a suite any store can run: the ui-proxy against the real
 * zipkin-server 3.6.1 on the same store (randomised multi-service traces written by our writer
 * into the default `zipkin` indices). Every endpoint and filter must answer the same status and
 * the same JSON (order-normalised only for trace order and span order, which the API leaves open),
 * and errors the same plain-text message. Both servers are asked at the same moment with the same
 * endTs; a comparison that differs is retried once, since other tests may write to the same cluster.
 *
 * Called by test/ui-differential.test.ts (the shared devstack's Elasticsearch) and
 * test/ui-differential-opensearch.test.ts (a private OpenSearch devstack): one body, so the two
 * stores are held to exactly the same comparisons.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UiProxy } from '@pintrace/ui-proxy';
import { canonicalTraces, randomDataset, startTestProxy, writeDataset, type Dataset } from '../ui-fixtures.js';

export interface UiDifferentialTarget {
  /** Named in the describe title, e.g. `Elasticsearch` or `OpenSearch 2.19`. */
  store: string;
  /** The store both servers read, as the ui-proxy's --es (zipkin-server was started on it). */
  es: string;
  /** zipkin-server's base URL. */
  zipkin: string;
}

interface Answer {
  status: number;
  contentType: string | null;
  cacheControl: string | null;
  body: string;
}

async function ask(base: string, path: string): Promise<Answer> {
  const res = await fetch(base + path);
  return { status: res.status, contentType: res.headers.get('content-type'), cacheControl: res.headers.get('cache-control'), body: await res.text() };
}

/** What must be equal: status, and for 200 the JSON (normalised) plus content-type and cache-control. */
function comparable(path: string, a: Answer): unknown {
  if (a.status !== 200) return { status: a.status, body: a.body };
  let json: unknown = JSON.parse(a.body);
  if (/\/(traces|traceMany)\?/.test(path)) json = canonicalTraces(json as unknown[][]);
  else if (/\/trace\//.test(path)) json = (json as unknown[]).map((s) => JSON.stringify(s)).sort();
  else if (/\/dependencies\?/.test(path)) json = (json as Array<{ parent: string; child: string }>).map((l) => JSON.stringify(l)).sort();
  return { status: 200, contentType: a.contentType, cacheControl: a.cacheControl, json };
}

async function compare(zipkin: string, ours: string, path: string): Promise<{ zipkin: unknown; ours: unknown }> {
  for (let attempt = 0; ; attempt++) {
    const [z, o] = await Promise.all([ask(zipkin, path), ask(ours, path)]);
    const result = { zipkin: comparable(path, z), ours: comparable(path, o) };
    if (attempt > 0 || JSON.stringify(result.zipkin) === JSON.stringify(result.ours)) return result;
    await new Promise((r) => setTimeout(r, 300));
  }
}

function queries(data: Dataset, tag: string): string[] {
  const [gateway, users, orders, db] = data.services as [string, string, string, string, string];
  const endTs = Date.now() + 60_000;
  const q = (params: Record<string, string | number>) =>
    `/api/v2/traces?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`;
  const timed = data.traces.filter((t) => t[0]!.timestamp !== undefined);
  const someTrace = timed[3]!;
  const midTs = Math.floor(someTrace[0]!.timestamp! / 1000);
  const list: string[] = [
    '/api/v2/services',
    ...data.services.flatMap((s) => [`/api/v2/spans?serviceName=${s}`, `/api/v2/remoteServices?serviceName=${s}`]),
    `/api/v2/spans?serviceName=${gateway.toUpperCase()}`,
    '/api/v2/spans?serviceName=',
    '/api/v2/spans?serviceName=nosuch-service',
    q({ serviceName: gateway, endTs, limit: 100 }),
    q({ serviceName: users, endTs, limit: 5 }),
    q({ serviceName: users, spanName: 'get /me', endTs, limit: 100 }),
    q({ serviceName: gateway, spanName: 'all', endTs, limit: 100 }),
    q({ serviceName: users, remoteServiceName: db, endTs, limit: 100 }),
    q({ remoteServiceName: orders, endTs, limit: 100 }),
    q({ serviceName: gateway, annotationQuery: 'error', endTs, limit: 100 }),
    q({ serviceName: gateway, annotationQuery: 'http.method=POST', endTs, limit: 100 }),
    q({ serviceName: users, annotationQuery: 'retry', endTs, limit: 100 }),
    q({ serviceName: gateway, annotationQuery: `http.method=GET and ${tag}.k=v1`, endTs, limit: 100 }),
    q({ serviceName: gateway, annotationQuery: 'http.path = /orders and error', endTs, limit: 100 }),
    q({ annotationQuery: `${tag}.k`, endTs, limit: 100 }),
    q({ serviceName: gateway, minDuration: 500_000, endTs, limit: 100 }),
    q({ serviceName: gateway, minDuration: 100_000, maxDuration: 900_000, endTs, limit: 100 }),
    q({ serviceName: db.replace('db', 'users'), minDuration: 1, maxDuration: 50_000, endTs, limit: 100 }),
    q({ serviceName: gateway, endTs: midTs, lookback: 20 * 60_000, limit: 100 }),
    q({ serviceName: gateway, endTs, lookback: 1, limit: 10 }),
    q({ serviceName: 'nosuch-service', endTs }),
    `/api/v2/trace/${someTrace[0]!.traceId}`,
    `/api/v2/trace/${timed[0]![0]!.traceId}`,
    `/api/v2/trace/${data.untimed[0]}`,
    `/api/v2/trace/${someTrace[0]!.traceId.toUpperCase()}`,
    `/api/v2/trace/${someTrace[0]!.traceId.slice(-16)}`,
    `/api/v2/traceMany?traceIds=${timed
      .slice(0, 4)
      .map((t) => t[0]!.traceId)
      .join(',')},00000000000000ff`,
    `/api/v2/traceMany?traceIds=${timed[0]![0]!.traceId},${timed[0]![0]!.traceId}`,
    `/api/v2/dependencies?endTs=${endTs}`,
    `/api/v2/dependencies?endTs=${endTs}&lookback=${2 * 86_400_000}`,
    `/api/v2/dependencies?endTs=${endTs - 3 * 86_400_000}&lookback=3600000`,
    '/api/v2/autocompleteKeys',
    '/api/v2/autocompleteValues?key=http.method',
    '/api/v2/autocompleteValues?key=http.path',
    '/api/v2/autocompleteValues?key=error',
    '/api/v2/autocompleteValues?key=nosuch',
    // errors: status and message must match
    '/api/v2/traces?limit=0',
    '/api/v2/traces?limit=abc',
    '/api/v2/traces?limit=',
    '/api/v2/traces?lookback=0',
    '/api/v2/traces?endTs=-5',
    '/api/v2/traces?minDuration=0',
    '/api/v2/traces?maxDuration=10',
    '/api/v2/traces?minDuration=10&maxDuration=5',
    '/api/v2/traces?minDuration=1.5',
    '/api/v2/spans',
    '/api/v2/remoteServices',
    '/api/v2/trace/xyz',
    '/api/v2/trace/0000000000000000',
    '/api/v2/trace/' + 'a'.repeat(33),
    '/api/v2/traceMany',
    '/api/v2/traceMany?traceIds=',
    '/api/v2/traceMany?traceIds=a',
    '/api/v2/traceMany?traceIds=a,,b',
    '/api/v2/dependencies',
    '/api/v2/dependencies?endTs=',
    '/api/v2/dependencies?endTs=0',
    '/api/v2/dependencies?endTs=5&lookback=0',
    '/api/v2/autocompleteValues',
    '/api/v2/autocompleteValues?key=',
    '/api/v2/nope',
  ];
  return [...list, ...list.filter((p) => p.startsWith('/api/v2/traces?') || p.startsWith('/api/v2/services')).map((p) => `/zipkin${p}`)];
}

/**
 * Registers the differential suite for one store. Servers the caller starts in its own top-level
 * beforeAll are up before this suite's beforeAll writes the data (vitest runs outer hooks first).
 */
export function uiDifferential(target: UiDifferentialTarget): void {
  const { es, zipkin } = target;
  describe(`ui-proxy answers exactly as zipkin-server on the same ${target.store}`, () => {
    const tag = `ud${Date.now().toString(36)}`;
    const seed = Number(process.env.UI_DIFF_SEED ?? Date.now() % 1_000_000);
    let data: Dataset;
    let proxy: UiProxy;
    let ours: string;

    beforeAll(async () => {
      data = randomDataset(tag, 60, seed);
      await writeDataset(data, es);
      proxy = await startTestProxy({ es });
      ours = `http://127.0.0.1:${proxy.port}`;
      // Both servers decide name-list Cache-Control from their last /services answer.
      await Promise.all([ask(zipkin, '/api/v2/services'), ask(ours, '/api/v2/services')]);
    }, 120_000);

    afterAll(async () => {
      await proxy?.shutdown();
    });

    it('the randomised data is visible through both', async () => {
      const gateway = data.services[0]!;
      const res = await fetch(`${ours}/api/v2/traces?serviceName=${gateway}&limit=1000&endTs=${Date.now() + 60_000}`);
      const traces = (await res.json()) as unknown[][];
      expect(traces.length).toBe(data.traces.length - data.untimed.length);
    });

    it('every endpoint and filter', async () => {
      const mismatches: Array<{ path: string; zipkin: unknown; ours: unknown }> = [];
      let nonEmpty = 0;
      for (const path of queries(data, tag)) {
        const { zipkin: theirs, ours: mine } = await compare(zipkin, ours, path);
        if (JSON.stringify(theirs) !== JSON.stringify(mine)) mismatches.push({ path, zipkin: theirs, ours: mine });
        const json = (theirs as { json?: unknown }).json;
        if (Array.isArray(json) && json.length > 0) nonEmpty++;
      }
      expect(mismatches, `seed ${seed}`).toEqual([]);
      expect(nonEmpty).toBeGreaterThan(30);
    });

    it("the UI config.json carries zipkin-server's defaults", async () => {
      const [z, o] = await Promise.all([fetch(`${zipkin}/zipkin/config.json`), fetch(`${ours}/zipkin/config.json`)]);
      expect(await o.json()).toEqual(await z.json());
      expect(o.headers.get('cache-control')).toBe(z.headers.get('cache-control'));
    });
  });
}
