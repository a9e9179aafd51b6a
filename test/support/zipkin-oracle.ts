/**
 * The compatibility oracle for the store dialect, as tests to declare against any store: the same
 * spans POSTed to a real zipkin-server 3.6.1 and written through our writer end up in the same
 * store as documents with exactly the same `_id`, `_source` and day index, and our templates
 * equal the server's own. Everything goes through our EsHttp, so a secured store works too.
 *
 * The server writes under its own prefix (`zipkinIndex`); we write under a fresh one and delete it
 * afterwards. Trace ids are new on every run, so the server's documents are found by trace id.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeSpanList } from '@pintrace/model';
import { ElasticsearchSpanWriter, readClusterVersion, type ClusterVersion, type EsHttp } from '@pintrace/storage';
import { eventually, uniqueName } from './servers.js';

export interface OracleTarget {
  /** Our client to the store, with whatever credentials and TLS files it needs. */
  http: EsHttp;
  zipkinUrl: string;
  /** zipkin-server's ES_INDEX. */
  zipkinIndex: string;
}

const TYPES = ['span', 'dependency', 'autocomplete'] as const;
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Spans that exercise every rule of the document: ids, names, endpoints, annotations, tags, flags. */
function spans(now: number): unknown[] {
  const t128 = hex(16);
  const t64 = hex(8);
  return [
    {
      traceId: t128,
      parentId: '0000000000000001',
      id: '0000000000000002',
      kind: 'CLIENT',
      name: 'get',
      timestamp: now,
      duration: 200000,
      localEndpoint: { serviceName: 'frontend', ipv4: '127.0.0.1' },
      remoteEndpoint: { serviceName: 'backend', ipv4: '192.168.99.101', port: 9000 },
      tags: { 'clnt/finagle.version': '6.45.0', 'http.path': '/api' },
    },
    {
      traceId: t128,
      parentId: '0000000000000002',
      id: '0000000000000003',
      kind: 'SERVER',
      name: 'GET /Api',
      timestamp: now + 10,
      duration: 150000,
      shared: true,
      localEndpoint: { serviceName: 'BackEnd', ipv6: '2001:DB8:0:0:0:0:0:C001', port: 9000 },
      annotations: [
        { timestamp: now + 30, value: 'ws' },
        { timestamp: now + 20, value: '"quoted" ⻩' },
        { timestamp: now + 20, value: '"quoted" ⻩' },
      ],
      tags: { error: '💩', 'http.status_code': '500', 'z.long': 'x'.repeat(300) },
    },
    { traceId: t64, id: hex(8), name: 'local', timestamp: now + 5, debug: true, localEndpoint: { serviceName: 'batch' } },
    { traceId: t64, id: hex(8), kind: 'PRODUCER', timestamp: now + 6, remoteEndpoint: { serviceName: 'kafka' } },
    { traceId: `0000000000000000${hex(8)}`, id: hex(8), name: 'high bits zero', timestamp: now + 7, localEndpoint: { serviceName: 'frontend' } },
  ];
}

interface Hit {
  _index: string;
  _id: string;
  _source: unknown;
}

async function json(http: EsHttp, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return http.request({ method, path, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

async function template(http: EsHttp, name: string): Promise<any> {
  const res = await json(http, 'GET', `/_template/${name}`);
  return res.status === 200 ? res.body[name] : undefined;
}

async function search(http: EsHttp, pattern: string, query: unknown): Promise<Hit[]> {
  const q = 'allow_no_indices=true&ignore_unavailable=true&expand_wildcards=open';
  await json(http, 'POST', `/${pattern}/_refresh?${q}`);
  const res = await json(http, 'POST', `/${pattern}/_search?${q}`, { size: 1000, query });
  if (res.status !== 200) throw new Error(`search ${pattern} answered ${res.status}`);
  return res.body.hits.hits as Hit[];
}

/** Declares the oracle tests (inside the caller's describe) against the target `target()` returns. */
export function zipkinOracleTests(target: () => OracleTarget): { version: () => ClusterVersion } {
  const prefix = uniqueName('oracle');
  let writer: ElasticsearchSpanWriter | undefined;
  let version: ClusterVersion | undefined;
  const theirTemplates: Record<string, any> = {};

  beforeAll(async () => {
    const { http, zipkinIndex } = target();
    version = await readClusterVersion(http);
    // The server installs its templates at start-up; ours get its shard and replica counts.
    await eventually(async () => ((await template(http, `${zipkinIndex}-span_template`)) !== undefined ? true : undefined), {
      what: 'zipkin-server templates',
    });
    for (const type of TYPES) theirTemplates[type] = await template(http, `${zipkinIndex}-${type}_template`);
    const settings = theirTemplates.span.settings.index;
    writer = new ElasticsearchSpanWriter({
      http,
      index: prefix,
      refresh: 'wait_for',
      templates: { shards: Number(settings.number_of_shards), replicas: Number(settings.number_of_replicas) },
    });
  });

  afterAll(async () => {
    await writer?.shutdown();
    const { http } = target();
    const rows = await json(http, 'GET', `/_cat/indices/${prefix}-*?format=json&h=index`);
    for (const { index } of (rows.status === 200 ? rows.body : []) as Array<{ index: string }>) await json(http, 'DELETE', `/${index}`);
    for (const type of TYPES) await json(http, 'DELETE', `/_template/${prefix}-${type}_template`);
  });

  it("our templates equal zipkin-server's (legacy _template, same settings and mappings)", async () => {
    const { http, zipkinIndex } = target();
    await writer!.start();
    for (const type of TYPES) {
      const ours = await template(http, `${prefix}-${type}_template`);
      const theirs = theirTemplates[type];
      expect(ours.index_patterns).toEqual([`${prefix}-${type}-*`]);
      expect(theirs.index_patterns).toEqual([`${zipkinIndex}-${type}-*`]);
      expect(ours.settings).toEqual(theirs.settings);
      expect(ours.mappings).toEqual(theirs.mappings);
    }
  });

  it('the same spans become the same documents: same _id, same _source, same day index', async () => {
    const { http, zipkinUrl, zipkinIndex } = target();
    const input = spans(Date.now() * 1000);
    const res = await fetch(`${zipkinUrl}/api/v2/spans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
    expect(res.status).toBe(202);
    const decoded = decodeSpanList(JSON.stringify(input));
    if (!decoded.ok) throw new Error(decoded.message);
    expect(decoded.rejected).toEqual([]);
    expect(await writer!.write(decoded.spans)).toMatchObject({ written: input.length, failed: [] });

    const query = { terms: { traceId: [...new Set(decoded.spans.map((s) => s.traceId))] } };
    const theirs = await eventually(
      async () => {
        const found = await search(http, `${zipkinIndex}-span-*`, query);
        return found.length === input.length ? found : undefined;
      },
      { what: `zipkin-server's ${input.length} documents`, timeoutMs: 30_000 },
    );
    const ours = await search(http, `${prefix}-span-*`, query);
    const byId = (hits: Hit[]) => Object.fromEntries(hits.map((h) => [h._id, { day: h._index.slice(-10), source: h._source }]));
    expect(Object.keys(byId(ours)).sort()).toEqual(Object.keys(byId(theirs)).sort());
    expect(byId(ours)).toEqual(byId(theirs));
    expect(ours.every((h) => h._index.startsWith(`${prefix}-span-`))).toBe(true);
  });

  return { version: () => version! };
}
