import { describe, expect, it } from 'vitest';
import type { EsHttp, EsRequest } from '../../src/http.js';
import { mergeDependencyLinks } from '../../src/query/dependency-links.js';
import { ElasticsearchSpanStore } from '../../src/query/elasticsearch-span-store.js';
import { buildQueryRequest } from '../../src/query/query-request.js';

/** An EsHttp that records requests and answers from a script. */
function fakeHttp(answer: (req: EsRequest, body: any) => unknown): { http: EsHttp; sent: Array<{ path: string; body: any }> } {
  const sent: Array<{ path: string; body: any }> = [];
  return {
    sent,
    http: {
      async request(req) {
        const body = req.body === undefined ? undefined : JSON.parse(String(req.body));
        sent.push({ path: req.path, body });
        return { status: 200, body: answer(req, body) };
      },
      async close() {},
    },
  };
}

const DAY = 86_400_000;
const base = { endTs: Date.UTC(2026, 3, 8, 12), lookback: DAY, limit: 10 };

describe('ElasticsearchSpanStore searches (as ElasticsearchSpanStore.java builds them)', () => {
  it('getTraces: aggregation with every filter as term/range JSON, then terms on the ids', async () => {
    const { http, sent } = fakeHttp((_req, body) =>
      body.aggs
        ? { aggregations: { traceId: { buckets: [{ key: 'b', timestamp_millis: { value: 2 } }, { key: 'a' }] } } }
        : {
            hits: {
              hits: [
                { _source: { traceId: '000000000000000a', id: '0000000000000001', name: 'x', timestamp_millis: 1, _q: ['k'] } },
                { _source: { traceId: '000000000000000b', id: '0000000000000002' } },
                { _source: { traceId: '000000000000000a', id: '0000000000000003' } },
              ],
            },
          },
    );
    const store = new ElasticsearchSpanStore({ http });
    const request = buildQueryRequest({
      ...base,
      serviceName: 'svc',
      remoteServiceName: 'db',
      spanName: 'get',
      annotationQuery: 'error and http.path=/x" OR 1',
      minDuration: 10,
      maxDuration: 20,
    });
    const traces = await store.getTraces(request);
    expect(traces.map((t) => t.map((s) => s.id))).toEqual([['0000000000000001', '0000000000000003'], ['0000000000000002']]);
    expect(sent[0]!.path).toBe('/zipkin*span-2026-04-07,zipkin*span-2026-04-08/_search?allow_no_indices=true&expand_wildcards=open&ignore_unavailable=true');
    expect(sent[0]!.body).toEqual({
      _source: false,
      query: {
        bool: {
          filter: {
            bool: {
              must: [
                { range: { timestamp_millis: { gte: base.endTs - DAY, lte: base.endTs } } },
                { term: { 'localEndpoint.serviceName': 'svc' } },
                { term: { 'remoteEndpoint.serviceName': 'db' } },
                { term: { name: 'get' } },
                { term: { _q: 'error' } },
                { term: { _q: 'http.path=/x" OR 1' } },
                { range: { duration: { gte: 10, lte: 20 } } },
              ],
            },
          },
        },
      },
      aggs: {
        traceId: {
          terms: { field: 'traceId', size: 10, order: { timestamp_millis: 'desc' } },
          aggs: { timestamp_millis: { min: { field: 'timestamp_millis' } } },
        },
      },
    });
    expect(sent[1]!.body).toEqual({ size: 10000, query: { bool: { filter: { terms: { traceId: ['b', 'a'] } } } } });
  });

  it('getTrace searches every span index by term; names use the names window and lower-case', async () => {
    const now = Date.UTC(2026, 3, 8, 12);
    const { http, sent } = fakeHttp(() => ({ aggregations: { name: { buckets: [{ key: 'z' }, { key: 'a' }] } } }));
    const store = new ElasticsearchSpanStore({ http, now: () => now, index: 'pfx' });
    await store.getTrace('000000000000000a');
    expect(sent[0]!.path.startsWith('/pfx*span-*/_search?')).toBe(true);
    expect(sent[0]!.body).toEqual({ size: 10000, query: { bool: { filter: { term: { traceId: '000000000000000a' } } } } });
    expect(await store.getSpanNames('SVC')).toEqual(['z', 'a']);
    expect(sent[1]!.body.query.bool.filter.bool.must[1]).toEqual({ term: { 'localEndpoint.serviceName': 'svc' } });
    expect(await store.getSpanNames('')).toEqual([]);
    expect(sent).toHaveLength(2);
  });

  it('autocomplete values need configured keys; an empty key is invalid', async () => {
    const { http, sent } = fakeHttp(() => ({ aggregations: { tagValue: { buckets: [{ key: 'GET' }] } } }));
    expect(await new ElasticsearchSpanStore({ http }).getAutocompleteValues('http.method')).toEqual([]);
    const store = new ElasticsearchSpanStore({ http, autocompleteKeys: ['http.method'] });
    await expect(store.getAutocompleteValues('')).rejects.toThrow('key was empty');
    expect(await store.getAutocompleteValues('http.method')).toEqual(['GET']);
    expect(sent[0]!.body.query.bool.filter.bool.must).toEqual([{ term: { tagKey: 'http.method' } }]);
  });

  // Their JSON_V1 encoding is the ui-proxy's (ui-proxy/test/zipkin-json.test.ts, from these links).
  it('dependencies: {"size":10000} over the dependency days, merged', async () => {
    const { http, sent } = fakeHttp(() => ({
      hits: {
        hits: [
          { _source: { parent: 'A', child: 'b', callCount: 2 } },
          { _source: { parent: 'a', child: 'b', callCount: 3, errorCount: 1 } },
          { _source: { parent: 'b', child: 'c', callCount: 1, errorCount: 0, id: 'b|c' } },
        ],
      },
    }));
    const links = await new ElasticsearchSpanStore({ http }).getDependencies(base.endTs, DAY);
    expect(sent[0]!.body).toEqual({ size: 10000 });
    expect(sent[0]!.path.startsWith('/zipkin*dependency-2026-04-07,zipkin*dependency-2026-04-08/')).toBe(true);
    expect(links).toEqual([
      { parent: 'a', child: 'b', callCount: 5, errorCount: 1 },
      { parent: 'b', child: 'c', callCount: 1, errorCount: 0 },
    ]);
    expect(mergeDependencyLinks([])).toEqual([]);
  });
});
