import { describe, expect, it } from 'vitest';
import type { EsHttp, EsRequest } from '../src/http.js';
import { mergeDependencyLinks } from '../src/query/dependency-links.js';
import { ElasticsearchSpanStore } from '../src/query/elasticsearch-span-store.js';
import { javaSplit, javaTrim } from '../src/query/java-strings.js';
import { annotationQueryString, buildQueryRequest, parseAnnotationQuery } from '../src/query/query-request.js';
import { parseTraceIdList } from '../src/query/trace-ids.js';

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

describe('annotationQuery parsing (QueryRequest.parseAnnotationQuery)', () => {
  it('splits on " and ", trims, lets later tags win and never lets a bare key override', () => {
    const m = parseAnnotationQuery(' http.uri = /foo and retried and http.uri=/bar and retried=x and retried');
    expect([...m]).toEqual([
      ['http.uri', '/bar'],
      ['retried', 'x'],
    ]);
    expect(annotationQueryString(m)).toBe('http.uri=/bar and retried=x');
  });
  it('keeps a value with "=" in it and empty pieces as Java split does', () => {
    expect([...parseAnnotationQuery('a=b=c')]).toEqual([['a', 'b=c']]);
    expect([...parseAnnotationQuery(' and x')]).toEqual([
      ['', ''],
      ['x', ''],
    ]);
    expect(javaSplit('a,b,', ',', 1000)).toEqual(['a', 'b', '']);
    expect(javaSplit('1 and 2 and 3', ' and ', 2)).toEqual(['1', '2 and 3']);
    expect(javaTrim('\u00a0x\t ')).toBe('\u00a0x');
  });
  it('stops at 100 terms, the rest staying in the last', () => {
    const q = Array.from({ length: 120 }, (_, i) => `k${i}`).join(' and ');
    const m = parseAnnotationQuery(q);
    expect(m.size).toBe(100);
    expect([...m.keys()][99]).toBe(Array.from({ length: 21 }, (_, i) => `k${i + 99}`).join(' and '));
  });
});

describe('buildQueryRequest (QueryRequest.Builder.build)', () => {
  it('lower-cases names and unsets "" and spanName "all"', () => {
    const r = buildQueryRequest({ ...base, serviceName: 'FrontEnd', remoteServiceName: '', spanName: 'ALL' });
    expect(r.serviceName).toBe('frontend');
    expect(r.remoteServiceName).toBeUndefined();
    expect(r.spanName).toBeUndefined();
  });
  it.each([
    [{ endTs: 0 }, 'endTs <= 0'],
    [{ limit: 0 }, 'limit <= 0'],
    [{ lookback: -1 }, 'lookback <= 0'],
    [{ minDuration: 0 }, 'minDuration <= 0'],
    [{ minDuration: 5, maxDuration: 4 }, 'maxDuration < minDuration'],
    [{ maxDuration: 4 }, 'maxDuration is only valid with minDuration'],
  ])("rejects %j with zipkin's message", (change, message) => {
    expect(() => buildQueryRequest({ ...base, ...change })).toThrow(message);
  });
});

describe('traceMany id list', () => {
  it.each([
    ['', 'traceIds parameter is empty'],
    ['a,a', 'redundant traceId: a'],
    ['a,00a', 'redundant traceId: 00a'],
    ['a', 'Use /api/v2/trace/{traceId} endpoint to retrieve a single trace'],
    ['a,,b', 'traceId is empty'],
    ['a,XYZ', 'XYZ should be lower-hex encoded with no prefix'],
  ])('%j → %s', (input, message) => {
    expect(() => parseTraceIdList(input)).toThrow(message);
  });
  it('normalises ids', () => {
    expect(parseTraceIdList('a,0000000000000000000000000000000b')).toEqual(['000000000000000a', '000000000000000b']);
  });
});

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
