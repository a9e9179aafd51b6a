/**
 * The compatibility oracle for the store dialect: the same spans POSTed to the real zipkin-server
 * 3.6.1 and written through our writer end up in the same store (Elasticsearch 8.8.2 of the
 * devstack, or OpenSearch under `devstack up --storage opensearch`) as documents with exactly the
 * same `_id` and `_source`, and our templates equal the server's own.
 *
 * The server writes under its own prefix (PINTRACE_ZIPKIN_INDEX, default "zipkin"); we write under
 * a fresh one and delete it afterwards. Trace ids are new on every run, so the server's documents
 * are found by trace id.
 * Run alone: npx vitest run --project integration test/storage-zipkin-oracle.test.ts
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSpanList } from '@pintrace/model';
import { ElasticsearchSpanWriter, createEsHttp, readClusterVersion, type EsHttp } from '@pintrace/storage';
import { deleteIndices, esUrl, eventually, searchAll, uniqueName, zipkinUrl } from './support/servers.js';

const zipkinIndex = process.env.PINTRACE_ZIPKIN_INDEX ?? 'zipkin';
const prefix = uniqueName('oracle');
const TYPES = ['span', 'dependency', 'autocomplete'] as const;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const now = Date.now() * 1000;

/** Spans that exercise every rule of the document: ids, names, endpoints, annotations, tags, flags. */
function spans(): unknown[] {
  const t128 = hex(16);
  const t64 = hex(8);
  return [
    { traceId: t128, parentId: '0000000000000001', id: '0000000000000002', kind: 'CLIENT', name: 'get', timestamp: now, duration: 200000,
      localEndpoint: { serviceName: 'frontend', ipv4: '127.0.0.1' }, remoteEndpoint: { serviceName: 'backend', ipv4: '192.168.99.101', port: 9000 },
      tags: { 'clnt/finagle.version': '6.45.0', 'http.path': '/api' } },
    { traceId: t128, parentId: '0000000000000002', id: '0000000000000003', kind: 'SERVER', name: 'GET /Api', timestamp: now + 10, duration: 150000,
      shared: true, localEndpoint: { serviceName: 'BackEnd', ipv6: '2001:DB8:0:0:0:0:0:C001', port: 9000 },
      annotations: [{ timestamp: now + 30, value: 'ws' }, { timestamp: now + 20, value: '"quoted" ⻩' }, { timestamp: now + 20, value: '"quoted" ⻩' }],
      tags: { error: '💩', 'http.status_code': '500', 'z.long': 'x'.repeat(300) } },
    { traceId: t64, id: hex(8), name: 'local', timestamp: now + 5, debug: true, localEndpoint: { serviceName: 'batch' } },
    { traceId: t64, id: hex(8), kind: 'PRODUCER', timestamp: now + 6, remoteEndpoint: { serviceName: 'kafka' } },
    { traceId: `0000000000000000${hex(8)}`, id: hex(8), name: 'high bits zero', timestamp: now + 7, localEndpoint: { serviceName: 'frontend' } },
  ];
}

let http: EsHttp;
let writer: ElasticsearchSpanWriter;
let zipkinTemplates: Record<string, any> = {};

async function template(name: string): Promise<any> {
  const res = await fetch(`${esUrl}/_template/${name}`);
  return res.status === 200 ? ((await res.json()) as Record<string, any>)[name] : undefined;
}

beforeAll(async () => {
  http = createEsHttp({ url: esUrl });
  await readClusterVersion(http); // a store zipkin supports, its dialect read from GET /
  // The server installs its templates at start-up; ours get its shard and replica counts.
  await eventually(async () => ((await template(`${zipkinIndex}-span_template`)) !== undefined ? true : undefined), { what: 'zipkin-server templates' });
  for (const type of TYPES) zipkinTemplates[type] = await template(`${zipkinIndex}-${type}_template`);
  const settings = zipkinTemplates.span.settings.index;
  writer = new ElasticsearchSpanWriter({
    http, index: prefix, refresh: 'wait_for',
    templates: { shards: Number(settings.number_of_shards), replicas: Number(settings.number_of_replicas) },
  });
});

afterAll(async () => {
  await writer?.shutdown();
  await deleteIndices(`${prefix}-*`);
  for (const type of TYPES) await fetch(`${esUrl}/_template/${prefix}-${type}_template`, { method: 'DELETE' });
  await http?.close();
});

describe(`our writer and zipkin-server 3.6.1 on the same store (${esUrl})`, () => {
  it('install the same templates (legacy _template, same settings and mappings)', async () => {
    await writer.start();
    for (const type of TYPES) {
      const ours = await template(`${prefix}-${type}_template`);
      const theirs = zipkinTemplates[type];
      expect(ours.index_patterns).toEqual([`${prefix}-${type}-*`]);
      expect(theirs.index_patterns).toEqual([`${zipkinIndex}-${type}-*`]);
      expect(ours.settings).toEqual(theirs.settings);
      expect(ours.mappings).toEqual(theirs.mappings);
    }
  });

  it('write the same span documents: same _id, same _source, same day index', async () => {
    const input = spans();
    const res = await fetch(`${zipkinUrl}/api/v2/spans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
    expect(res.status).toBe(202);
    const decoded = decodeSpanList(JSON.stringify(input));
    if (!decoded.ok) throw new Error(decoded.message);
    expect(decoded.rejected).toEqual([]);
    const result = await writer.write(decoded.spans);
    expect(result).toMatchObject({ written: input.length, failed: [] });

    const traceIds = [...new Set(decoded.spans.map((s) => s.traceId))];
    const query = { terms: { traceId: traceIds } };
    const theirs = await eventually(async () => {
      const found = await searchAll<Record<string, unknown>>(`${zipkinIndex}-span-*`, query);
      return found.length === input.length ? found : undefined;
    }, { what: `zipkin-server's ${input.length} documents`, timeoutMs: 30_000 });
    const ours = await searchAll<Record<string, unknown>>(`${prefix}-span-*`, query);
    const byId = (hits: Array<{ _index: string; _id: string; _source: unknown }>) =>
      Object.fromEntries(hits.map((h) => [h._id, { day: h._index.slice(h._index.length - 10), source: h._source }]));
    expect(Object.keys(byId(ours)).sort()).toEqual(Object.keys(byId(theirs)).sort());
    expect(byId(ours)).toEqual(byId(theirs));
    // The index name follows the dialect: '-' between prefix and type on ES 7+ and OpenSearch.
    expect(ours.every((h) => h._index.startsWith(`${prefix}-span-`))).toBe(true);
  });
});
