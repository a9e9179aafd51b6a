/**
 * The ui-proxy's hostile-input guarantees against the real Elasticsearch and Kafka:
 * - 1,000 fuzzed query strings: only 200/400/404, errors as a plain message, never a 5xx or a
 *   stack trace;
 * - nothing from a query parameter reaches Elasticsearch as query syntax: every request the
 *   proxy sends (recorded by a pass-through in front of ES) is a _search on the configured
 *   index patterns whose body holds only bool/filter/must/term/terms/range and terms/min aggs;
 * - with credentials configured, no endpoint answers without them;
 * - POST /api/v2/spans validates like zipkin-server and puts one JSON list per trace on Kafka,
 *   keyed by the trace's Kafka key (the low 64 bits of its id).
 * Run alone: npx vitest run --project integration test/ui-fuzz.test.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmin, createConsumer } from '@pintrace/kafka';
import { traceKafkaKey } from '@pintrace/model';
import type { UiProxy } from '@pintrace/ui-proxy';
import { esUrl, kafkaBrokers, uniqueName, zipkinUrl } from './support/servers.js';
import { randomDataset, rng, startTestProxy, writeDataset } from './ui-fixtures.js';

interface Recorded {
  method: string;
  url: string;
  body: string;
}
const recorded: Recorded[] = [];
let recorder: http.Server;
let recorderUrl: string;
let proxy: UiProxy;
let base: string;
const tag = `uf${Date.now().toString(36)}`;

/** Forwards to the real ES and records what was asked. */
async function startRecorder(): Promise<void> {
  recorder = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      recorded.push({ method: req.method ?? '', url: req.url ?? '', body: body.toString('utf8') });
      const headers = { ...req.headers };
      delete headers.host;
      fetch(esUrl + (req.url ?? '/'), { method: req.method, headers: headers as Record<string, string>, ...(body.length ? { body } : {}) }).then(
        async (r) => {
          const out = Buffer.from(await r.arrayBuffer());
          const h: Record<string, string> = {};
          r.headers.forEach((v, k) => {
            if (k !== 'content-encoding' && k !== 'transfer-encoding' && k !== 'content-length') h[k] = v;
          });
          res.writeHead(r.status, h);
          res.end(out);
        },
        () => {
          res.writeHead(502);
          res.end();
        },
      );
    });
  });
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
  recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
}

const ALLOWED_CLAUSES = new Set(['bool', 'filter', 'must', 'term', 'terms', 'range']);
const FIELDS = new Set(['timestamp_millis', 'localEndpoint.serviceName', 'remoteEndpoint.serviceName', 'name', '_q', 'duration', 'traceId', 'tagKey']);

/** Throws unless the body is one of the shapes the span store builds. */
function assertSafeSearch(r: Recorded): void {
  expect(r.method).toBe('POST');
  expect(r.url).toMatch(
    /^\/(zipkin\*(span|dependency|autocomplete)-[0-9*-]+(,zipkin\*(span|dependency|autocomplete)-[0-9*-]+)*)\/_search\?allow_no_indices=true&expand_wildcards=open&ignore_unavailable=true$/,
  );
  const body = JSON.parse(r.body) as Record<string, unknown>;
  for (const key of Object.keys(body)) expect(['size', '_source', 'query', 'aggs']).toContain(key);
  const visitQuery = (node: unknown, parent: string): void => {
    if (Array.isArray(node)) {
      for (const n of node) visitQuery(n, parent);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    for (const [k, v] of Object.entries(node)) {
      if (parent === 'term' || parent === 'terms' || parent === 'range') {
        expect(FIELDS.has(k), `field ${k}`).toBe(true);
        if (parent === 'term') expect(typeof v).toBe('string');
        if (parent === 'terms') expect((v as unknown[]).every((x) => typeof x === 'string')).toBe(true);
        if (parent === 'range') expect(Object.values(v as object).every((x) => typeof x === 'number')).toBe(true);
        continue;
      }
      expect(ALLOWED_CLAUSES.has(k), `clause ${k}`).toBe(true);
      visitQuery(v, k);
    }
  };
  if (body.query !== undefined) visitQuery(body.query, 'query');
  if (body.aggs !== undefined) {
    const text = JSON.stringify(body.aggs);
    expect(text).not.toMatch(/script|query_string|regexp|wildcard|match|"source"/);
  }
}

beforeAll(async () => {
  await startRecorder();
  await writeDataset(randomDataset(tag, 10, 3));
  proxy = await startTestProxy({ es: recorderUrl, topic: uniqueName('ui-intake-') });
  base = `http://127.0.0.1:${proxy.port}`;
}, 120_000);

afterAll(async () => {
  await proxy?.shutdown();
  await new Promise<void>((r) => (recorder ? recorder.close(() => r()) : r()));
});

const NASTY = [
  '',
  ' ',
  'a',
  'A',
  '0',
  '-1',
  '+5',
  '1.5',
  '1e3',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '2147483648',
  '00000000000000000',
  'ffffffffffffffff',
  'FFFF',
  'null',
  'true',
  '[]',
  '{}',
  '*',
  '*:*',
  '_all',
  'a OR b',
  'name:* AND _exists_:x',
  '"quoted"',
  '\\',
  "'",
  '"); DROP TABLE spans; --',
  '{"script":{"source":"1"}}',
  '{"query_string":{"query":"*"}}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '\u2028',
  '💥',
  'é',
  'and',
  ' and ',
  'a and b=c',
  '=',
  '==',
  'a=',
  '=b',
  'error and http.path=/x and retried',
  'x'.repeat(5000),
  '1'.repeat(400),
  ',',
  'a,b',
  'a,a',
  'abc,def,123',
  ',,,',
  'all',
];
const PARAMS = [
  'serviceName',
  'remoteServiceName',
  'spanName',
  'annotationQuery',
  'minDuration',
  'maxDuration',
  'endTs',
  'lookback',
  'limit',
  'traceIds',
  'key',
  'junk',
  '__proto__',
  'constructor',
];
const ROUTES = [
  'services',
  'spans',
  'remoteServices',
  'traces',
  'traceMany',
  'dependencies',
  'autocompleteKeys',
  'autocompleteValues',
  'trace/',
  'nope',
  'trace/a/b',
  '',
  'traces/',
  'SERVICES',
];

function fuzzCase(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const randomText = (): string => {
    const n = Math.floor(r() * 12);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(r() * 0x3000));
    return s;
  };
  const value = (): string => (r() < 0.7 ? pick(NASTY) : randomText());
  let route = pick(ROUTES);
  if (route === 'trace/') route += encodeURIComponent(value());
  const parts: string[] = [];
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) {
    const v = value();
    const encoded = r() < 0.1 ? v.replace(/[&#\s]/g, '') : encodeURIComponent(v);
    parts.push(`${pick(PARAMS)}=${encoded}`);
  }
  if (r() < 0.05) parts.push('%zz=%G1&&=&a');
  return `${pick(['/api/v2/', '/zipkin/api/v2/'])}${route}${parts.length ? `?${parts.join('&')}` : ''}`;
}

describe('hostile input', () => {
  it('1,000 fuzzed query strings: 200, 400 or 404 only; errors are a message without a stack trace', async () => {
    const r = rng(Number(process.env.UI_FUZZ_SEED ?? 42));
    const bad: Array<{ path: string; status: number; body: string }> = [];
    const statuses = new Map<number, number>();
    const cases = Array.from({ length: 1000 }, () => fuzzCase(r));
    for (let i = 0; i < cases.length; i += 20) {
      await Promise.all(
        cases.slice(i, i + 20).map(async (path) => {
          const res = await fetch(base + path);
          const body = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const ok =
            res.status === 200 ||
            ((res.status === 400 || res.status === 404) && body.length > 0 && res.headers.get('content-type')?.startsWith('text/plain') === true);
          if (!ok || /\n\s+at .+\(.+:\d+:\d+\)|Error:|node_modules/.test(body)) bad.push({ path, status: res.status, body: body.slice(0, 300) });
        }),
      );
    }
    expect(bad).toEqual([]);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
  }, 180_000);

  it('nothing from a parameter reaches Elasticsearch as query syntax', () => {
    const searches = recorded.filter((x) => x.url.includes('_search'));
    expect(searches.length).toBeGreaterThan(100);
    for (const s of searches) assertSafeSearch(s);
    // Only searches, the health check and the start-up version check (`GET /`) ever left the proxy.
    for (const x of recorded) expect(x.url.includes('_search') || x.url.startsWith('/_cluster/health/') || x.url === '/', x.url).toBe(true);
  });

  it('injection strings reach ES only as term values', async () => {
    recorded.length = 0;
    const injected = '{"script":{"source":"ctx"}} OR *:*';
    const res = await fetch(`${base}/api/v2/traces?serviceName=${encodeURIComponent(injected)}&annotationQuery=${encodeURIComponent(`${injected}=1 and x`)}`);
    expect(res.status).toBe(200);
    const body = JSON.parse(recorded[0]!.body) as { query: { bool: { filter: { bool: { must: unknown[] } } } } };
    expect(body.query.bool.filter.bool.must).toContainEqual({ term: { 'localEndpoint.serviceName': injected.toLowerCase() } });
    expect(body.query.bool.filter.bool.must).toContainEqual({ term: { _q: `${injected}=1` } });
  });
});

describe('authentication', () => {
  it('with credentials configured, no endpoint answers without them', async () => {
    const secured = await startTestProxy({ users: 'ops:correct-horse', tokens: 'secret-token-1', lensDir: 'var/lens' });
    try {
      const b = `http://127.0.0.1:${secured.port}`;
      const paths = [
        '/',
        '/zipkin',
        '/zipkin/',
        '/zipkin/config.json',
        '/zipkin/index.html',
        '/zipkin/traces/abc',
        '/zipkin/dependency',
        '/metrics',
        '/health',
        '/nope',
        '/favicon.ico',
        '/api/v2/traces',
        '/api/v2/trace/abc',
        '/api/v2/traceMany?traceIds=a,b',
        '/api/v2/dependencies?endTs=1',
        '/api/v2/autocompleteKeys',
        '/api/v2/autocompleteValues?key=error',
        '/zipkin/api/v2/services',
        '/api/v2/spans?serviceName=x',
        '/api/v2/remoteServices?serviceName=x',
        '/zipkin/pintrace/health',
        '/zipkin/pintrace/health?serviceName=x',
        '/api/v2/pintrace/red?serviceName=x',
        '/api/v2/pintrace/red/services',
        '/api/v2/pintrace/red/spans?serviceName=x',
      ];
      const wrong = [
        undefined,
        'Basic ' + Buffer.from('ops:wrong').toString('base64'),
        'Basic ' + Buffer.from('nobody:correct-horse').toString('base64'),
        'Bearer secret-token-2',
        'Bearer ',
        'Basic',
        'Token secret-token-1',
        'Basic !!!notbase64',
      ];
      for (const p of paths) {
        for (const method of ['GET', 'HEAD', 'POST', 'DELETE']) {
          for (const authorization of wrong) {
            const res = await fetch(b + p, { method, redirect: 'manual', headers: authorization === undefined ? {} : { authorization } });
            expect([p, method, authorization, res.status]).toEqual([p, method, authorization, 401]);
          }
        }
        const ok = await fetch(b + p, { redirect: 'manual', headers: { authorization: 'Bearer secret-token-1' } });
        expect(ok.status, p).not.toBe(401);
        const basic = await fetch(b + p, { redirect: 'manual', headers: { authorization: 'Basic ' + Buffer.from('ops:correct-horse').toString('base64') } });
        expect(basic.status, p).not.toBe(401);
      }
    } finally {
      await secured.shutdown();
    }
  }, 120_000);
});

describe('POST /api/v2/spans', () => {
  it('rejects what zipkin-server rejects, with its messages', async () => {
    const bodies = ['{}', 'xyz', '[{"traceId":"x","id":"1"}]', '[{"id":"1"}]', '[{"traceId":"a","id":"1","binaryAnnotations":[]}]'];
    for (const body of bodies) {
      const [z, o] = await Promise.all(
        [zipkinUrl, base].map((u) => fetch(`${u}/api/v2/spans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })),
      );
      expect([body, o.status, await o.text()]).toEqual([body, z!.status, await z!.text()]);
    }
    for (const body of ['', '[]']) {
      expect((await fetch(`${base}/api/v2/spans`, { method: 'POST', body })).status).toBe(202);
    }
  });

  it("puts one JSON list per trace on Kafka, keyed as every producer keys a trace (model's traceKafkaKey)", async () => {
    const topic = uniqueName('ui-intake-');
    const intake = await startTestProxy({ topic });
    const admin = createAdmin(kafkaBrokers);
    await admin.ensureTopic(topic, 1);
    await admin.close();
    try {
      const spans = randomDataset(`${tag}p`, 2, 11).traces.slice(0, 2).flat();
      const res = await fetch(`http://127.0.0.1:${intake.port}/api/v2/spans`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spans),
      });
      expect(res.status).toBe(202);
      const consumer = createConsumer({ brokers: kafkaBrokers, groupId: uniqueName('ui-intake-g'), topics: [topic], fromBeginning: true });
      await consumer.connect();
      const messages: Array<{ key: string; value: unknown[] }> = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no messages within 60 s')), 60_000);
        consumer
          .run(async (batch) => {
            for (const m of batch.messages) messages.push({ key: m.key?.toString() ?? '', value: JSON.parse(m.value!.toString()) as unknown[] });
            if (messages.length >= 2) {
              clearTimeout(timer);
              resolve();
            }
          })
          .catch(reject);
      });
      await consumer.disconnect();
      // The low 64 bits of the id, as the agent keys it, so both paths put one trace on one partition.
      const keys = [...new Set(spans.map((s) => traceKafkaKey(s.traceId)))].sort();
      expect(messages.map((m) => m.key).sort()).toEqual(keys);
      for (const m of messages) expect(m.value.every((s) => traceKafkaKey((s as { traceId: string }).traceId) === m.key)).toBe(true);
      expect(messages.reduce((n, m) => n + m.value.length, 0)).toBe(spans.length);
    } finally {
      await intake.shutdown();
    }
  }, 120_000);
});
