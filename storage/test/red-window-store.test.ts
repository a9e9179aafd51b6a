import { describe, expect, it } from 'vitest';
import { buildTemplates, ElasticsearchRedWindowStore, RED_BUCKET_BOUNDS_US, RED_BUCKET_FIELDS, type RedWindowDocument } from '@pintrace/storage';
import { fakeHttp } from './fake-es.js';

const version = { distribution: 'elasticsearch' as const, major: 8, minor: 8 };
const W0 = Date.UTC(2026, 11, 3, 11, 0, 0);
const buckets = (i: number, v: number) => Object.assign(new Array<number>(RED_BUCKET_BOUNDS_US.length + 1).fill(0), { [i]: v });

const doc = (over: Partial<RedWindowDocument> = {}): RedWindowDocument => ({
  timestamp_millis: W0,
  windowMs: 10_000,
  collector: 'g/host/1/ab',
  flush: 0,
  serviceName: 'front',
  spanName: 'get /a',
  kind: 'SERVER',
  remoteServiceName: '',
  calls: 100.5,
  errors: 1,
  durationSumUs: 2000,
  buckets: buckets(3, 100.5),
  ...over,
});

describe('ElasticsearchRedWindowStore', () => {
  it('writes each document once under <collector>|<window>|<flush>|<key> into the daily red index, retrying 429 items', async () => {
    const { http, requests } = fakeHttp([
      () => ({ status: 200, body: { items: [{ index: { status: 429, error: { type: 'es_rejected_execution_exception' } } }] } }),
      () => ({ status: 200, body: { items: [{ index: { status: 201 } }] } }),
    ]);
    const store = new ElasticsearchRedWindowStore({ http, version, initialDelayMs: 1, maxDelayMs: 2 });
    await store.write([doc()]);
    const [action, body] = requests[1]!.body!.toString().trim().split('\n');
    expect(JSON.parse(action!)).toEqual({ index: { _index: 'zipkin-red-2026-12-03', _id: `g/host/1/ab|${W0}|0|front|get /a|SERVER|` } });
    // the buckets also as fields of their own, which the template maps as summable doc values
    expect(JSON.parse(body!)).toEqual({ ...doc(), ...Object.fromEntries(RED_BUCKET_FIELDS.map((f, i) => [f, i === 3 ? 100.5 : 0])) });
  });

  it('asks the store for the sums: a histogram of steps aligned to endTs and a terms of span names, each with a sum per field', async () => {
    const sums = (calls: number, errors: number, bucket: number) => ({
      calls: { value: calls },
      errors: { value: errors },
      ...Object.fromEntries(RED_BUCKET_FIELDS.map((f, i) => [f, { value: i === bucket ? calls : 0 }])),
    });
    const { http, requests } = fakeHttp([
      () => ({
        status: 200,
        body: {
          aggregations: {
            documents: { value: 3 },
            withCalls: { value: 3 },
            withBuckets: { value: 3 },
            steps: {
              buckets: [
                { key: W0 - 5_000, ...sums(4.5, 1, 3) },
                { key: W0 + 15_000, ...sums(2, 2, 9) },
              ],
            },
            names: {
              buckets: [
                { key: 'get /a', ...sums(4.5, 1, 3) },
                { key: 'get /b', ...sums(2, 2, 9) },
              ],
            },
          },
        },
      }),
    ]);
    const store = new ElasticsearchRedWindowStore({ http, version });
    const { steps, bySpanName } = await store.queryService({ serviceName: 'front', endTs: W0 + 25_000, lookback: 30_000, stepMs: 10_000 });
    expect(steps.map((s) => [s.timestamp, s.calls, s.errors, s.buckets[3], s.buckets[9]])).toEqual([
      [W0 - 5_000, 4.5, 1, 4.5, 0],
      [W0 + 5_000, 0, 0, 0, 0],
      [W0 + 15_000, 2, 2, 0, 2],
    ]);
    expect([...bySpanName].map(([k, v]) => [k, v.calls, v.errors, v.buckets[3], v.buckets[9]])).toEqual([
      ['get /a', 4.5, 1, 4.5, 0],
      ['get /b', 2, 2, 0, 2],
    ]);
    const body = JSON.parse(String(requests[0]!.body));
    expect(body.size).toBe(0);
    // steps start at endTs - 3 × 10 s = W0 - 5 s: an offset of 5 s from the epoch's 10 s grid
    expect(body.aggs.steps.histogram).toEqual({ field: 'timestamp_millis', interval: 10_000, offset: 5_000, min_doc_count: 1 });
    expect(Object.keys(body.aggs.steps.aggs)).toEqual(['calls', 'errors', ...RED_BUCKET_FIELDS]);
    expect(body.aggs.names.terms.field).toBe('spanName');
  });

  it('without summable fields (an index of an older template) adds up the documents itself, paging on the _id fields', async () => {
    const hit = (d: Partial<RedWindowDocument>, sort: unknown[]) => ({ _source: doc(d), sort });
    const { http, requests } = fakeHttp([
      () => ({ status: 200, body: { aggregations: { documents: { value: 3 }, withCalls: { value: 2 }, withBuckets: { value: 2 } } } }),
      () => ({
        status: 200,
        body: {
          hits: {
            hits: [
              hit({ collector: 'a' }, [1]),
              hit({ collector: 'b', calls: 2, errors: 0, buckets: buckets(9, 2) }, [2]),
              hit({ timestamp_millis: W0 + 20_000, calls: 3, errors: 3, buckets: buckets(0, 3) }, [3]),
            ],
          },
        },
      }),
    ]);
    const store = new ElasticsearchRedWindowStore({ http, version });
    const steps = await store.query({ serviceName: 'front', spanName: 'get /a', endTs: W0 + 30_000, lookback: 30_000, stepMs: 10_000 });
    expect(steps.map((s) => [s.timestamp, s.calls, s.errors, s.buckets[3], s.buckets[9], s.buckets[0]])).toEqual([
      [W0, 102.5, 1, 100.5, 2, 0],
      [W0 + 10_000, 0, 0, 0, 0, 0],
      [W0 + 20_000, 3, 3, 0, 0, 3],
    ]);
    const search = JSON.parse(String(requests[1]!.body)) as { query: { bool: { filter: unknown[] } } };
    expect(requests[1]!.path).toBe('/zipkin*red-2026-12-03/_search?allow_no_indices=true&ignore_unavailable=true');
    expect(search.query.bool.filter).toContainEqual({ term: { spanName: 'get /a' } });
    expect(search.query.bool.filter).toContainEqual({ term: { serviceName: 'front' } });
  });

  it('reads stored roots per window and sampling endpoint, summed over collectors and flushes (the adaptive sampler input)', async () => {
    const root = (d: Partial<RedWindowDocument>, sort: unknown[]) => ({ _source: doc({ endpoint: '/pay', roots: 5, calls: 50, ...d }), sort });
    const { http, requests } = fakeHttp([
      () => ({
        status: 200,
        body: {
          hits: {
            hits: [
              root({ collector: 'a' }, [1]),
              root({ collector: 'b', flush: 1, roots: 1, calls: 10 }, [2]),
              root({ endpoint: '/cart', roots: 2, calls: 2 }, [3]),
              root({ timestamp_millis: W0 + 10_000 }, [4]),
            ],
          },
        },
      }),
    ]);
    const store = new ElasticsearchRedWindowStore({ http, version });
    const windows = await store.rootWindows({ begin: W0, end: W0 + 20_000 });
    expect(windows.map((w) => [w.timestamp, w.serviceName, w.endpoint, w.roots, w.calls])).toEqual([
      [W0, 'front', '/pay', 6, 60],
      [W0, 'front', '/cart', 2, 2],
      [W0 + 10_000, 'front', '/pay', 5, 50],
    ]);
    const search = JSON.parse(String(requests[0]!.body)) as { query: { bool: { filter: unknown[] } } };
    expect(search.query.bool.filter).toContainEqual({ exists: { field: 'endpoint' } });
    // a root document's id carries its endpoint, so it never overwrites the span name's other documents
    expect(ElasticsearchRedWindowStore.documentId(doc({ endpoint: '/pay' }))).toBe(`g/host/1/ab|${W0}|0|front|get /a|SERVER||/pay`);
  });

  it("has a template of its own only when asked, beside zipkin's three", () => {
    expect(buildTemplates(version).map((t) => t.type)).toEqual(['span', 'dependency', 'autocomplete']);
    const red = buildTemplates(version, { red: true })[3]!;
    expect(red.url).toBe('/_template/zipkin-red_template');
    expect(red.body.index_patterns).toBe('zipkin-red-*');
    const properties = (red.body.mappings as { properties: Record<string, unknown> }).properties;
    for (const f of ['calls', 'errors', ...RED_BUCKET_FIELDS]) expect(properties[f]).toEqual({ type: 'double', index: false });
  });
});
