import { describe, expect, it } from 'vitest';
import type { ClusterVersion } from '../src/version.js';
import { buildTemplates, ensureTemplates } from '../src/templates.js';
import type { EsHttp, EsRequest } from '../src/http.js';

const es = (major: number, minor = 0): ClusterVersion => ({ distribution: 'elasticsearch', major, minor });
const os = (major: number, minor = 0): ClusterVersion => ({ distribution: 'opensearch', major, minor });

const KEYWORD = { type: 'keyword', norms: false };
const SETTINGS = { 'index.number_of_shards': 5, 'index.number_of_replicas': 1, 'index.requests.cache.enable': true };

describe('templates (reference §1.3)', () => {
  it('builds the default legacy templates for ES >= 7', () => {
    const [span, dependency, autocomplete] = buildTemplates(es(8, 8));
    expect(span).toEqual({
      type: 'span',
      url: '/_template/zipkin-span_template',
      body: {
        index_patterns: 'zipkin-span-*',
        settings: SETTINGS,
        mappings: {
          _source: { excludes: ['_q'] },
          dynamic_templates: [{ strings: { mapping: { type: 'keyword', norms: false, ignore_above: 256 }, match_mapping_type: 'string', match: '*' } }],
          properties: {
            traceId: KEYWORD,
            name: KEYWORD,
            localEndpoint: { type: 'object', dynamic: false, properties: { serviceName: KEYWORD } },
            remoteEndpoint: { type: 'object', dynamic: false, properties: { serviceName: KEYWORD } },
            timestamp_millis: { type: 'date', format: 'epoch_millis' },
            duration: { type: 'long' },
            annotations: { enabled: false },
            tags: { enabled: false },
            _q: KEYWORD,
          },
        },
      },
    });
    expect(dependency).toEqual({
      type: 'dependency',
      url: '/_template/zipkin-dependency_template',
      body: { index_patterns: 'zipkin-dependency-*', settings: SETTINGS, mappings: { enabled: false } },
    });
    expect(autocomplete).toEqual({
      type: 'autocomplete',
      url: '/_template/zipkin-autocomplete_template',
      body: { index_patterns: 'zipkin-autocomplete-*', settings: SETTINGS, mappings: { enabled: true, properties: { tagKey: KEYWORD, tagValue: KEYWORD } } },
    });
  });
  it('honours shards, replicas and prefix', () => {
    const [span] = buildTemplates(es(8), { index: 'abc', shards: 1, replicas: 0 });
    expect(span!.url).toBe('/_template/abc-span_template');
    expect(span!.body.index_patterns).toBe('abc-span-*');
    expect(span!.body.settings).toEqual({ ...SETTINGS, 'index.number_of_shards': 1, 'index.number_of_replicas': 0 });
  });
  it('search disabled keeps only traceId, annotations, tags', () => {
    const [span] = buildTemplates(es(8), { searchEnabled: false });
    expect(span!.body.mappings).toEqual({ properties: { traceId: KEYWORD, annotations: { enabled: false }, tags: { enabled: false } } });
  });
  it('strict trace id off adds the analyzer', () => {
    const [span] = buildTemplates(es(8), { strictTraceId: false });
    expect((span!.body.mappings as { properties: { traceId: unknown } }).properties.traceId).toEqual({
      type: 'text',
      fielddata: 'true',
      analyzer: 'traceId_analyzer',
    });
    expect((span!.body.settings as Record<string, unknown>).analysis).toMatchObject({
      filter: { traceId_filter: { type: 'pattern_capture', patterns: ['([0-9a-f]{1,16})$'], preserve_original: true } },
    });
  });
  it('composable form with a priority on ES >= 7.8 and OpenSearch', () => {
    const [dep] = buildTemplates(es(7, 8), { templatePriority: 0 }).slice(1);
    expect(dep).toEqual({
      type: 'dependency',
      url: '/_index_template/zipkin-dependency_template',
      body: { index_patterns: 'zipkin-dependency-*', template: { settings: SETTINGS, mappings: { enabled: false } }, priority: 0 },
    });
    expect(buildTemplates(os(2), { templatePriority: 5 })[0]!.url).toBe('/_index_template/zipkin-span_template');
    expect(buildTemplates(es(7, 7), { templatePriority: 5 })[0]!.url).toBe('/_template/zipkin-span_template');
  });
  it('old versions: type wrapping, include_type_name, "template" key', () => {
    const [, dep6] = buildTemplates(es(6, 8));
    expect(dep6).toEqual({
      type: 'dependency',
      url: '/_template/zipkin:dependency_template?include_type_name=true',
      body: { index_patterns: 'zipkin:dependency-*', settings: SETTINGS, mappings: { dependency: { enabled: false } } },
    });
    expect(buildTemplates(es(6, 6))[1]!.url).toBe('/_template/zipkin:dependency_template');
    expect(buildTemplates(es(5, 6))[1]!.body).toMatchObject({ template: 'zipkin:dependency-*' });
  });
});

describe('ensureTemplates', () => {
  it('GETs each template and PUTs only the missing ones', async () => {
    const calls: EsRequest[] = [];
    const http: EsHttp = {
      async request(req) {
        calls.push(req);
        if (req.method === 'GET') return { status: req.path.includes('span') ? 200 : 404, body: {} };
        return { status: 200, body: { acknowledged: true } };
      },
      async close() {},
    };
    const result = await ensureTemplates(http, buildTemplates(es(8)));
    expect(result).toEqual({
      existing: ['/_template/zipkin-span_template'],
      installed: ['/_template/zipkin-dependency_template', '/_template/zipkin-autocomplete_template'],
    });
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /_template/zipkin-span_template',
      'GET /_template/zipkin-dependency_template',
      'PUT /_template/zipkin-dependency_template',
      'GET /_template/zipkin-autocomplete_template',
      'PUT /_template/zipkin-autocomplete_template',
    ]);
    expect(JSON.parse(String(calls[2]!.body))).toEqual(buildTemplates(es(8))[1]!.body);
  });
  it('replaces an older red template (one without the summable fields), never one of zipkin', async () => {
    const calls: EsRequest[] = [];
    const old = {
      'zipkin-red_template': { mappings: { dynamic: false, properties: { timestamp_millis: { type: 'date' }, serviceName: { type: 'keyword' } } } },
    };
    const http: EsHttp = {
      async request(req) {
        calls.push(req);
        if (req.method === 'GET') return { status: 200, body: req.path.includes('red') ? old : { x: { mappings: { properties: { traceId: {} } } } } };
        return { status: 200, body: { acknowledged: true } };
      },
      async close() {},
    };
    const templates = buildTemplates(es(8), { red: true });
    expect(await ensureTemplates(http, templates)).toEqual({
      existing: ['/_template/zipkin-span_template', '/_template/zipkin-dependency_template', '/_template/zipkin-autocomplete_template'],
      installed: ['/_template/zipkin-red_template'],
    });
    expect(JSON.parse(String(calls.at(-1)!.body))).toEqual(templates[3]!.body);
    // the current one (composable form here) stays
    const current = { index_templates: [{ name: 'zipkin-red_template', index_template: { template: templates[3]!.body } }] };
    const again: EsHttp = { request: async (req) => (calls.push(req), { status: 200, body: current }), close: async () => {} };
    calls.length = 0;
    expect((await ensureTemplates(again, [templates[3]!])).existing).toEqual(['/_template/zipkin-red_template']);
    expect(calls.map((c) => c.method)).toEqual(['GET']);
  });

  it('fails with ES_TEMPLATE_FAILED on an unexpected status', async () => {
    const http: EsHttp = {
      async request() {
        return { status: 500, body: 'boom' };
      },
      async close() {},
    };
    await expect(ensureTemplates(http, buildTemplates(es(8)))).rejects.toMatchObject({ code: 'ES_TEMPLATE_FAILED', status: 500 });
  });
});
