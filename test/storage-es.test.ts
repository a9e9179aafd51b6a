/**
 * @pintrace/storage against the real store of the devstack (PINTRACE_ES_URL, default
 * http://127.0.0.1:9200): Elasticsearch 8.8.2, or OpenSearch under `devstack up --storage opensearch`. Every run uses its own index prefix and deletes its indices and
 * templates by name afterwards.
 * Run alone: npx vitest run --project integration test/storage-es.test.ts
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSpanList } from '@pintrace/model';
import type { Span } from '@pintrace/model';
import { ElasticsearchSpanWriter, buildTemplates, createEsHttp, encodeSpanDocument, parseClusterVersion } from '@pintrace/storage';
import type { EsHttp, RetryEvent } from '@pintrace/storage';
import { STABLE_SPAN, STABLE_SPAN_ID } from '../storage/test/fixtures.js';
import { esUrl, getJson, uniqueName } from './support/servers.js';

const prefix = uniqueName('t');
const TYPES = ['span', 'dependency', 'autocomplete'] as const;

const DAY_2026 = Date.parse('2026-04-08T10:00:00Z') * 1000;

let http: EsHttp;
const writers: ElasticsearchSpanWriter[] = [];

function writer(options: Partial<ConstructorParameters<typeof ElasticsearchSpanWriter>[0]> = {}): ElasticsearchSpanWriter {
  const w = new ElasticsearchSpanWriter({
    http,
    index: prefix,
    refresh: 'wait_for',
    templates: { shards: 1, replicas: 0 },
    retry: { initialDelayMs: 50, maxDelayMs: 500 },
    ...options,
  });
  writers.push(w);
  return w;
}

async function es(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${esUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function hits(index: string, query: unknown = { match_all: {} }): Promise<Array<{ _id: string; _source: any }>> {
  const res = await es('POST', `/${index}/_search?ignore_unavailable=true&allow_no_indices=true`, { size: 1000, query });
  return res.body.hits.hits;
}

beforeAll(async () => {
  http = createEsHttp({ url: esUrl });
});

afterAll(async () => {
  for (const w of writers) await w.shutdown();
  const rows = (await getJson<Array<{ index: string }>>(`${esUrl}/_cat/indices/${prefix}*?format=json&h=index`)) ?? [];
  for (const { index } of rows) await fetch(`${esUrl}/${index}`, { method: 'DELETE' });
  for (const type of TYPES) await fetch(`${esUrl}/_template/${prefix}-${type}_template`, { method: 'DELETE' });
  await http.close();
});

describe('storage against real Elasticsearch', () => {
  it('detects the devstack version (Elasticsearch 8, or OpenSearch 2/3 under devstack --storage opensearch)', async () => {
    const res = await http.request({ method: 'GET', path: '/' });
    const version = parseClusterVersion(res.body);
    expect(version.distribution === 'elasticsearch' ? [8] : [2, 3]).toContain(version.major);
    expect((res.body as { version: { distribution?: string } }).version.distribution === 'opensearch').toBe(version.distribution === 'opensearch');
  });

  it('installs the three templates once, equal to what zipkin-server installs', async () => {
    const w = writer();
    await w.start();
    for (const type of TYPES) {
      const got = await es('GET', `/_template/${prefix}-${type}_template`);
      expect(got.status).toBe(200);
      const t = got.body[`${prefix}-${type}_template`];
      expect(t.index_patterns).toEqual([`${prefix}-${type}-*`]);
      expect(t.settings.index).toMatchObject({ number_of_shards: '1', number_of_replicas: '0', requests: { cache: { enable: 'true' } } });
      // The same mappings as the stock server's own template, when zipkin-server has installed one.
      const zipkin = await es('GET', `/_template/zipkin-${type}_template`);
      if (zipkin.status === 200) expect(t.mappings).toEqual(zipkin.body[`zipkin-${type}_template`].mappings);
    }
    // Installed only if missing: a changed template is left alone by a second writer.
    const changed = { ...buildTemplates({ distribution: 'elasticsearch', major: 8, minor: 8 }, { index: prefix, shards: 2, replicas: 0 })[1]!.body };
    expect((await es('PUT', `/_template/${prefix}-dependency_template`, changed)).status).toBe(200);
    await writer().start();
    const dep = await es('GET', `/_template/${prefix}-dependency_template`);
    expect(dep.body[`${prefix}-dependency_template`].settings.index.number_of_shards).toBe('2');
  });

  it("writes the golden span with zipkin's exact _id and _source", async () => {
    const w = writer();
    const result = await w.write([STABLE_SPAN]);
    expect(result).toEqual({ written: 1, failed: [], autocompleteWritten: 0, retries: 0 });
    const found = await hits(`${prefix}-span-1970-01-01`);
    expect(found.map((h) => h._id)).toEqual([STABLE_SPAN_ID]);
    const expected = JSON.parse(encodeSpanDocument(STABLE_SPAN).body.toString());
    delete expected._q;
    expect(found[0]!._source).toEqual(expected);
    // _q is indexed although excluded from _source.
    expect(await hits(`${prefix}-span-1970-01-01`, { term: { _q: 'http.path=/api' } })).toHaveLength(1);
  });

  it('writes a batch into day indices with the expected ids, sources and autocomplete docs', async () => {
    const w = writer({ autocomplete: { keys: ['environment'] } });
    const message = JSON.stringify([
      {
        traceId: 'A'.toLowerCase().repeat(16),
        id: '1',
        name: 'GET /Foo',
        kind: 'SERVER',
        timestamp: DAY_2026,
        duration: 5,
        localEndpoint: { serviceName: 'FrontEnd', ipv6: '2001:DB8:0:0:0:0:0:C001' },
        tags: { environment: 'prod', error: '💩' },
        annotations: [
          { timestamp: DAY_2026 + 2, value: '⻩' },
          { timestamp: DAY_2026 + 1, value: 'ws' },
        ],
      },
      { traceId: 'b'.repeat(32), id: '2', annotations: [{ timestamp: DAY_2026 + 86_400_000_000, value: 'no timestamp' }] },
      { traceId: 'c'.repeat(16), id: '3', name: 'big', timestamp: DAY_2026, tags: { big: 'x'.repeat(100_000) } },
    ]);
    const decoded = decodeSpanList(message);
    if (!decoded.ok) throw new Error(decoded.message);
    expect(decoded.rejected).toEqual([]);
    const result = await w.write(decoded.spans);
    expect(result).toMatchObject({ written: 3, failed: [], autocompleteWritten: 1 });
    const day1 = await hits(`${prefix}-span-2026-04-08`);
    const day2 = await hits(`${prefix}-span-2026-04-09`);
    const expectedIds = decoded.spans.map((s) => encodeSpanDocument(s).id);
    expect(day1.map((h) => h._id).sort()).toEqual([expectedIds[0], expectedIds[2]].sort());
    expect(day2.map((h) => h._id)).toEqual([expectedIds[1]]);
    const first = day1.find((h) => h._id === expectedIds[0])!;
    expect(first._source).toMatchObject({
      timestamp_millis: Math.floor(DAY_2026 / 1000),
      name: 'get /foo',
      localEndpoint: { serviceName: 'frontend', ipv6: '2001:db8::c001' },
      annotations: [
        { timestamp: DAY_2026 + 1, value: 'ws' },
        { timestamp: DAY_2026 + 2, value: '⻩' },
      ],
      tags: { environment: 'prod', error: '💩' },
    });
    expect(await hits(`${prefix}-span-2026-04-08`, { term: { _q: 'error=💩' } })).toHaveLength(1);
    expect(await hits(`${prefix}-span-2026-04-08`, { term: { 'localEndpoint.serviceName': 'frontend' } })).toHaveLength(1);
    const ac = await hits(`${prefix}-autocomplete-2026-04-08`);
    expect(ac).toEqual([expect.objectContaining({ _id: 'environment=prod', _source: { tagKey: 'environment', tagValue: 'prod' } })]);
    // Rewriting the same spans is idempotent: same ids, no new documents.
    await w.write(decoded.spans);
    expect(await hits(`${prefix}-span-2026-04-08`)).toHaveLength(2);
  });

  it('reports a real mapping failure with its span and still writes the others', async () => {
    const index = `${prefix}-span-2020-01-01`;
    expect((await es('PUT', `/${index}`, { mappings: { properties: { kind: { type: 'long' } } } })).status).toBe(200);
    const t = Date.parse('2020-01-01T10:00:00Z') * 1000;
    const bad: Span = { traceId: 'd'.repeat(16), id: '0000000000000001', kind: 'SERVER', timestamp: t };
    const good: Span = { traceId: 'd'.repeat(16), id: '0000000000000002', name: 'local', timestamp: t };
    const result = await writer().write([bad, good]);
    expect(result.written).toBe(1);
    // Elasticsearch 8 calls it document_parsing_exception, OpenSearch mapper_parsing_exception.
    expect(result.failed).toEqual([
      expect.objectContaining({ span: bad, status: 400, reason: expect.stringMatching(/^(document|mapper)_parsing_exception$/) }),
    ]);
  });

  it('retries real 429s (read_only_allow_delete block) and resubmits until indexed', async () => {
    const index = `${prefix}-span-2021-01-01`;
    expect((await es('PUT', `/${index}`, { settings: { number_of_shards: 1, number_of_replicas: 0 } })).status).toBe(200);
    expect((await es('PUT', `/${index}/_settings`, { 'index.blocks.read_only_allow_delete': true })).status).toBe(200);
    const events: RetryEvent[] = [];
    const t = Date.parse('2021-01-01T10:00:00Z') * 1000;
    const blocked: Span = { traceId: 'e'.repeat(16), id: '0000000000000001', name: 'blocked', timestamp: t };
    const free: Span = { traceId: 'e'.repeat(16), id: '0000000000000002', name: 'free', timestamp: DAY_2026 };
    const pending = writer({ onRetry: (e) => events.push(e) }).write([blocked, free]);
    // Let it be refused a few times, then lift the block.
    await new Promise((r) => setTimeout(r, 1500));
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.items === 1)).toBe(true);
    expect(events[0]!.cause).toMatch(/429|cluster_block_exception/);
    expect((await es('PUT', `/${index}/_settings`, { 'index.blocks.read_only_allow_delete': null })).status).toBe(200);
    const result = await pending;
    expect(result.written).toBe(2);
    expect(result.failed).toEqual([]);
    expect(result.retries).toBe(events.length);
    expect((await hits(index)).map((h) => h._id)).toEqual([encodeSpanDocument(blocked).id]);
  });
});
