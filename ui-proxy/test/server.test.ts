import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, resolveConfig } from '@pintrace/runtime';
import { StorageError, type EsHttp, type EsRequest } from '@pintrace/storage';
import { startUiProxy, uiOptions, type UiProxy } from '../src/index.js';
import { rewriteIndexHtml, withHealthLink } from '../src/lens-assets.js';
import { capTrace } from '../src/truncate.js';

const log = createLogger('test', { level: 'silent' });
const proxies: UiProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.shutdown()));
});

function config(flags: Record<string, unknown> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ui-test-'));
  return resolveConfig(uiOptions, { flags: { port: 0, lensJar: path.join(dir, 'none.jar'), lensDir: dir, ...flags }, env: {} });
}

async function start(answer: (req: EsRequest) => Promise<unknown> | unknown, flags: Record<string, unknown> = {}) {
  const sent: EsRequest[] = [];
  const http: EsHttp = {
    async request(req) {
      // The start-up check reads the version; the tests look at the API's requests.
      if (req.path === '/') return { status: 200, body: { version: { number: '8.8.2' } } };
      sent.push(req);
      return { status: 200, body: await answer(req) };
    },
    async close() {},
  };
  const proxy = await startUiProxy(config(flags), { log, http });
  proxies.push(proxy);
  const base = `http://127.0.0.1:${proxy.port}`;
  return { proxy, sent, get: (p: string, init?: RequestInit) => fetch(base + p, init) };
}

const names = (...keys: string[]) => ({ aggregations: { x: { buckets: keys.map((key) => ({ key })) } } });

describe('API routes', () => {
  it('answers under /api/v2 and /zipkin/api/v2, sorted, with Cache-Control once more than 3 services exist', async () => {
    const { get } = await start(() => names('c', 'a', 'b', 'd'));
    for (const prefix of ['/api/v2', '/zipkin/api/v2']) {
      const res = await get(`${prefix}/services`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('cache-control')).toBe('max-age=300, must-revalidate');
      expect(await res.text()).toBe('["a","b","c","d"]');
    }
  });

  it("bad input is 400 plain text with zipkin's message; unknown paths 404; other methods 405", async () => {
    const { get } = await start(() => names());
    const cases: Array<[string, number, string]> = [
      ['/api/v2/traces?limit=abc', 400, 'For input string: "abc"'],
      ['/api/v2/traces?limit=', 400, 'Cannot set null to primitive type parameter: limit'],
      ['/api/v2/spans', 400, 'Mandatory parameter/header/attribute is missing: serviceName'],
      ['/api/v2/trace/XYZ', 400, 'XYZ should be lower-hex encoded with no prefix'],
      ['/api/v2/trace/abc', 404, '0000000000000abc not found'],
      ['/api/v2/trace/%zz', 400, 'malformed percent-encoding in the path'],
      ['/api/v2/nope', 404, '404 Not Found'],
      ['/api/v2/traces?endTs=9223372036854775807', 400, 'endTs > 8640000000000000'],
    ];
    for (const [p, status, body] of cases) {
      const res = await get(p);
      expect([p, res.status, await res.text()]).toEqual([p, status, body]);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    }
    expect((await get('/api/v2/services', { method: 'DELETE' })).status).toBe(405);
  });

  it('shortens lookback to --max-lookback and limit to 10000', async () => {
    const { get, sent } = await start(() => names(), { maxLookback: 86_400_000 });
    await get('/api/v2/traces?endTs=1800000000000&lookback=999999999999&limit=2147483647');
    const body = JSON.parse(String(sent[0]!.body));
    expect(body.query.bool.filter.bool.must[0].range.timestamp_millis).toEqual({ gte: 1800000000000 - 86_400_000, lte: 1800000000000 });
    expect(body.aggs.traceId.terms.size).toBe(10000);
  });

  it('maps Elasticsearch failures to 502/503 and slow queries to 504, never with a stack trace', async () => {
    let mode = 'error';
    const { get } = await start(
      async () => {
        if (mode === 'error') throw new StorageError('ES_HTTP_ERROR', 'search failed: boom', { status: 500 });
        if (mode === 'down') throw new StorageError('ES_UNAVAILABLE', 'connect ECONNREFUSED');
        await new Promise((r) => setTimeout(r, 500));
        return names();
      },
      { queryTimeoutMs: 100 },
    );
    let res = await get('/api/v2/services');
    expect([res.status, await res.text()]).toEqual([502, 'Elasticsearch error: search failed: boom']);
    mode = 'down';
    res = await get('/api/v2/services');
    expect([res.status, await res.text()]).toEqual([503, 'Elasticsearch is unavailable']);
    mode = 'slow';
    res = await get('/api/v2/services');
    expect([res.status, await res.text()]).toEqual([504, 'query timed out after 100 ms']);
  });

  it('without Lens files the UI answers 503 and the API still works; / redirects to the base path', async () => {
    const { get } = await start(() => names('a'));
    expect((await get('/zipkin/')).status).toBe(503);
    const res = await get('/', { redirect: 'manual' });
    expect([res.status, res.headers.get('location')]).toEqual([302, '/zipkin/']);
    expect(await (await get('/zipkin/config.json')).json()).toMatchObject({ queryLimit: 10, defaultLookback: 900000, searchEnabled: true });
  });
});

describe('authentication', () => {
  it('no endpoint answers without credentials; basic and bearer both work', async () => {
    const { get } = await start(() => names('a'), { users: 'alice:s3cret', tokens: 'tok-1' });
    for (const p of ['/api/v2/services', '/zipkin/', '/metrics', '/health', '/zipkin/config.json', '/nope']) {
      const res = await get(p);
      expect([p, res.status]).toEqual([p, 401]);
      expect(res.headers.get('www-authenticate')).toContain('Basic realm="pintrace"');
    }
    const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
    expect((await get('/api/v2/services', { headers: { authorization: basic } })).status).toBe(200);
    expect((await get('/api/v2/services', { headers: { authorization: 'Bearer tok-1' } })).status).toBe(200);
    const wrong = `Basic ${Buffer.from('alice:nope').toString('base64')}`;
    expect((await get('/api/v2/services', { headers: { authorization: wrong } })).status).toBe(401);
    expect((await get('/api/v2/services', { headers: { authorization: 'Bearer tok-2' } })).status).toBe(401);
  });

  it('refuses to start open on a public address unless --auth off', async () => {
    await expect(startUiProxy(config({ host: '0.0.0.0' }), { log })).rejects.toThrow(/without authentication/);
  });
});

describe('service health page', () => {
  it('is served under the base path, behind the same authentication, as HTML without script', async () => {
    const { get, sent } = await start(
      (req) => (/red-/.test(req.path) ? { aggregations: { names: { buckets: [{ key: 'front' }] } }, hits: { hits: [] } } : names()),
      {
        basePath: '/tools/tracing',
        users: 'alice:s3cret',
      },
    );
    expect((await get('/tools/tracing/pintrace/health')).status).toBe(401);
    const authorization = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
    const res = await get('/tools/tracing/pintrace/health?lookback=900000', { headers: { authorization } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const body = await res.text();
    expect(body).toContain('<a href="/tools/tracing/pintrace/health?serviceName=front&amp;lookback=900000">front</a>');
    // one search for the names, one for the service's windows, both on the red indices
    expect(sent.map((r) => r.path.split('/')[1]!.split(',')[0])).toEqual([expect.stringMatching(/^zipkin.red-/), expect.stringMatching(/^zipkin.red-/)]);
    expect((await get('/zipkin/pintrace/health', { headers: { authorization } })).status).toBe(404);
  });

  it('names and span names with windows are listed under /api/v2/pintrace/red/', async () => {
    const { get, sent } = await start(() => ({ aggregations: { names: { buckets: [{ key: 'a' }, { key: 'b' }] } } }));
    expect(await (await get('/api/v2/pintrace/red/services?endTs=1800000000000&lookback=60000')).json()).toEqual(['a', 'b']);
    expect(JSON.parse(String(sent[0]!.body)).aggs.names.terms.field).toBe('serviceName');
    expect(await (await get('/api/v2/pintrace/red/spans?serviceName=A')).json()).toEqual(['a', 'b']);
    expect(JSON.parse(String(sent[1]!.body)).query.bool.filter[0]).toEqual({ term: { serviceName: 'a' } });
    const missing = await get('/api/v2/pintrace/red/spans');
    expect([missing.status, await missing.text()]).toEqual([400, 'Mandatory parameter/header/attribute is missing: serviceName']);
  });
});

describe('store check at start', () => {
  const storeAnswering = (root: () => Promise<{ status: number; body: unknown }>): EsHttp => ({
    request: async (req) => (req.path === '/' ? root() : { status: 200, body: {} }),
    close: async () => {},
    authMethod: 'basic',
    origins: ['https://store.example:9200'],
  });

  it('refuses to start on a store that can never work, naming the setting', async () => {
    const refused = storeAnswering(async () => ({ status: 401, body: 'unauthorized' }));
    await expect(startUiProxy(config(), { log, http: refused })).rejects.toMatchObject({
      code: 'UI_STORE_UNUSABLE',
      message: expect.stringMatching(/401.*--es-username and --es-password/),
    });
    const old = storeAnswering(async () => ({ status: 200, body: { version: { number: '4.9.0' } } }));
    await expect(startUiProxy(config(), { log, http: old })).rejects.toMatchObject({ message: expect.stringMatching(/versions 5-9\.x/) });
  });

  it('starts while the store is down and answers 503 until it is up', async () => {
    const down: EsHttp = {
      request: async () => {
        throw new StorageError('ES_UNAVAILABLE', 'GET / to https://store.example:9200 failed: connection refused (ECONNREFUSED)');
      },
      close: async () => {},
    };
    const proxy = await startUiProxy(config(), { log, http: down });
    proxies.push(proxy);
    const res = await fetch(`http://127.0.0.1:${proxy.port}/api/v2/services`);
    expect(res.status).toBe(503);
  });
});

describe('span cap', () => {
  it('keeps the earliest spans and marks the first with a tag and an annotation', () => {
    const spans = [3, 1, 2].map((t) => ({ traceId: 'a'.repeat(16), id: `${t}`.padStart(16, '0'), timestamp: t }));
    const { spans: kept, truncated } = capTrace(spans, 2);
    expect(truncated).toBe(true);
    expect(kept.map((s) => s.timestamp)).toEqual([1, 2]);
    expect(kept[0]!.tags).toEqual({ 'pintrace.truncated': '2 of 3 spans shown' });
    expect(kept[0]!.annotations).toEqual([{ timestamp: 1, value: 'pintrace.truncated: 2 of 3 spans shown' }]);
  });
});

describe('Lens index.html', () => {
  it('is unchanged under /zipkin and rewritten like zipkin-server for another base path', () => {
    const html = '<base href="/zipkin/" ><link rel="icon" href="/zipkin/favicon.ico" /><script src="/zipkin/static/js/i.js">';
    expect(rewriteIndexHtml(html, '/zipkin')).toBe(html);
    expect(rewriteIndexHtml(html, '/traces/ui')).toBe('<base href="/traces/ui/" ><link rel="icon" href="./favicon.ico" /><script src="./static/js/i.js">');
  });

  it("gets the health page's link, relative to <base href>, outside Lens's root element", () => {
    const page = '<html><body><div id="root"></div>\n  </body>\n</html>';
    const linked = withHealthLink(page);
    expect(linked).toMatch(
      /^<html><body><div id="root"><\/div>\n {2}<a id="pintrace-health-link" href="pintrace\/health" [^>]*>Service health<\/a>\n {2}<\/body>\n<\/html>$/,
    );
    expect(withHealthLink('<p>no body end')).toBe('<p>no body end');
  });
});
