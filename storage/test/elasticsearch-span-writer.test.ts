import { afterEach, describe, expect, it } from 'vitest';
import type { Span } from '@pintrace/model';
import { ElasticsearchSpanWriter } from '../src/elasticsearch-span-writer.js';
import type { ElasticsearchSpanWriterOptions, RetryEvent } from '../src/elasticsearch-span-writer.js';
import { encodeSpanDocument } from '../src/span-document.js';
import { FakeElasticsearch, bulkAnswer, bulkIds } from './fake-es.js';
import type { FakeReply, FakeRequest } from './fake-es.js';

const DAY = Date.parse('2026-04-08T10:00:00Z') * 1000;

function span(i: number, extra: Partial<Span> = {}): Span {
  return {
    traceId: (0x1000 + i).toString(16).padStart(16, '0'),
    id: (0x2000 + i).toString(16).padStart(16, '0'),
    name: 'get',
    timestamp: DAY + i,
    duration: 10,
    localEndpoint: { serviceName: 'frontend' },
    ...extra,
  };
}

const ROOT = { version: { number: '8.8.2' } };

let fake: FakeElasticsearch | undefined;
let writer: ElasticsearchSpanWriter | undefined;

afterEach(async () => {
  await writer?.shutdown();
  await fake?.stop();
  writer = undefined;
  fake = undefined;
});

async function setup(bulk: (req: FakeRequest, n: number) => FakeReply, options: Partial<ElasticsearchSpanWriterOptions> = {}): Promise<FakeElasticsearch> {
  let n = 0;
  fake = new FakeElasticsearch((req) => {
    if (req.url === '/') return { status: 200, body: ROOT };
    if (req.url.startsWith('/_template/')) return { status: req.method === 'GET' ? 404 : 200, body: { acknowledged: true } };
    if (req.url.startsWith('/_bulk')) return bulk(req, n++);
    return { status: 404, body: {} };
  });
  const url = await fake.start();
  writer = new ElasticsearchSpanWriter({ url, retry: { initialDelayMs: 1, maxDelayMs: 5 }, ...options });
  return fake;
}

describe('ElasticsearchSpanWriter', () => {
  it('detects the version, installs templates, writes exact meta lines and documents', async () => {
    const es = await setup((req) => ({ status: 200, body: bulkAnswer(req.body, () => 201) }), { templates: { replicas: 0 } });
    const spans = [span(1), span(2)];
    const result = await writer!.write(spans);
    expect(result).toEqual({ written: 2, failed: [], autocompleteWritten: 0, retries: 0 });
    expect(es.requests.slice(0, 7).map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /',
      'GET /_template/zipkin-span_template',
      'PUT /_template/zipkin-span_template',
      'GET /_template/zipkin-dependency_template',
      'PUT /_template/zipkin-dependency_template',
      'GET /_template/zipkin-autocomplete_template',
      'PUT /_template/zipkin-autocomplete_template',
    ]);
    expect(JSON.parse(es.requests[2]!.body).settings['index.number_of_replicas']).toBe(0);
    const bulk = es.bulkRequests();
    expect(bulk).toHaveLength(1);
    const docs = spans.map((s) => encodeSpanDocument(s));
    expect(bulk[0]!.body).toBe(docs.map((d) => `{"index":{"_index":"zipkin-span-2026-04-08","_id":"${d.id}"}}\n${d.body.toString()}\n`).join(''));
    expect(bulk[0]!.headers['content-type']).toBe('application/x-ndjson');
    // Started once: a second write goes straight to _bulk.
    await writer!.write([span(3)]);
    expect(es.requests.filter((r) => r.url === '/')).toHaveLength(1);
  });

  it('retries a whole-request 429 with backoff until it succeeds', async () => {
    const events: RetryEvent[] = [];
    const es = await setup(
      (req, n) =>
        n < 3 ? { status: 429, body: { error: { type: 'es_rejected_execution_exception' } } } : { status: 200, body: bulkAnswer(req.body, () => 201) },
      { onRetry: (e) => events.push(e) },
    );
    const result = await writer!.write([span(1), span(2)]);
    expect(result).toMatchObject({ written: 2, failed: [], retries: 3 });
    expect(es.bulkRequests()).toHaveLength(4);
    expect(events.map((e) => e.cause)).toEqual(['429', '429', '429']);
    expect(events.map((e) => e.attempt)).toEqual([1, 2, 3]);
  });

  it('resubmits only the items that were rejected', async () => {
    const es = await setup((req, n) => ({
      status: 200,
      body: bulkAnswer(req.body, (_id, i) => (n === 0 && i % 2 === 1 ? 429 : n === 1 && i === 0 ? 503 : 201)),
    }));
    const spans = [0, 1, 2, 3, 4].map((i) => span(i));
    const result = await writer!.write(spans);
    expect(result).toMatchObject({ written: 5, failed: [], retries: 2 });
    const [first, second, third] = es.bulkRequests().map((r) => bulkIds(r.body));
    const ids = spans.map((s) => encodeSpanDocument(s).id);
    expect(first).toEqual(ids);
    expect(second).toEqual([ids[1], ids[3]]);
    expect(third).toEqual([ids[1]]);
  });

  it('retries es_rejected_execution_exception items whatever their status', async () => {
    const es = await setup((req, n) => ({
      status: 200,
      body: bulkAnswer(req.body, () => (n === 0 ? { status: 500, type: 'es_rejected_execution_exception' } : 201)),
    }));
    expect(await writer!.write([span(1)])).toMatchObject({ written: 1, failed: [] });
    expect(es.bulkRequests()).toHaveLength(2);
  });

  it('reports permanent item failures with the span instead of dropping them', async () => {
    const bad = span(2, { name: 'bad' });
    await setup((req) => ({ status: 200, body: bulkAnswer(req.body, (_id, i) => (i === 1 ? 400 : 201)) }));
    const result = await writer!.write([span(1), bad, span(3)]);
    expect(result.written).toBe(2);
    expect(result.failed).toEqual([{ span: bad, status: 400, reason: 'mapper_parsing_exception', message: 'fake 400' }]);
  });

  it('reports every span when the whole request is refused permanently', async () => {
    await setup(() => ({ status: 400, body: { error: { type: 'illegal_argument_exception', reason: 'nope' } } }));
    const result = await writer!.write([span(1), span(2)]);
    expect(result.failed.map((f) => f.reason)).toEqual(['illegal_argument_exception', 'illegal_argument_exception']);
  });

  it('splits a batch answered 413 until it fits', async () => {
    const es = await setup((req) => (bulkIds(req.body).length > 1 ? { status: 413, body: '' } : { status: 200, body: bulkAnswer(req.body, () => 201) }));
    expect(await writer!.write([span(1), span(2), span(3)])).toMatchObject({ written: 3, failed: [] });
    expect(es.bulkRequests().length).toBeGreaterThan(3);
  });

  it('retries network failures', async () => {
    await setup((req, n) => (n < 2 ? { status: 0, hangUp: true } : { status: 200, body: bulkAnswer(req.body, () => 201) }));
    expect(await writer!.write([span(1)])).toMatchObject({ written: 1, failed: [], retries: 2 });
  });

  it('retries bulk requests refused 401/403 (credentials rotated under a running writer) instead of dropping them', async () => {
    const events: RetryEvent[] = [];
    await setup(
      (req, n) =>
        n < 2 ? { status: n === 0 ? 401 : 403, body: { error: { type: 'security_exception' } } } : { status: 200, body: bulkAnswer(req.body, () => 201) },
      { onRetry: (e) => events.push(e) },
    );
    expect(await writer!.write([span(1)])).toMatchObject({ written: 1, failed: [], retries: 2 });
    expect(events.map((e) => e.cause)).toEqual([expect.stringMatching(/^401 unauthorized.*--es-password/), expect.stringMatching(/^403 forbidden/)]);
  });

  it('waits for Elasticsearch at start instead of failing the write', async () => {
    let roots = 0;
    fake = new FakeElasticsearch((req) => {
      if (req.url === '/') return roots++ < 2 ? { status: 503, body: {} } : { status: 200, body: ROOT };
      if (req.url.startsWith('/_template/')) return { status: 200, body: {} };
      return { status: 200, body: bulkAnswer(req.body, () => 201) };
    });
    writer = new ElasticsearchSpanWriter({ url: await fake.start(), retry: { initialDelayMs: 1, maxDelayMs: 2 } });
    expect(await writer.write([span(1)])).toMatchObject({ written: 1 });
    expect(roots).toBe(3);
  });

  it('rejects an unsupported version without writing', async () => {
    fake = new FakeElasticsearch(() => ({ status: 200, body: { version: { number: '4.6.0' } } }));
    writer = new ElasticsearchSpanWriter({ url: await fake.start() });
    await expect(writer.write([span(1)])).rejects.toMatchObject({ code: 'ES_VERSION_UNSUPPORTED' });
  });

  it('bounds concurrent bulk requests and splits by maxBatchDocs', async () => {
    const es = await setup((req) => ({ status: 200, body: bulkAnswer(req.body, () => 201) }), { maxConcurrency: 2, maxBatchDocs: 2 });
    es.bulkDelayMs = 20;
    const spans = Array.from({ length: 10 }, (_, i) => span(i));
    const results = await Promise.all([writer!.write(spans.slice(0, 5)), writer!.write(spans.slice(5))]);
    expect(results.reduce((n, r) => n + r.written, 0)).toBe(10);
    expect(es.bulkRequests()).toHaveLength(6);
    expect(es.maxInFlight).toBeLessThanOrEqual(2);
  });

  it('writes autocomplete docs for configured keys once per day and value', async () => {
    const es = await setup((req) => ({ status: 200, body: bulkAnswer(req.body, () => 201) }), { autocomplete: { keys: ['environment'] } });
    const tagged = (i: number): Span => span(i, { tags: { environment: 'prod', other: 'x' } });
    expect(await writer!.write([tagged(1), tagged(2)])).toMatchObject({ written: 2, autocompleteWritten: 1 });
    const lines = es.bulkRequests()[0]!.body.split('\n');
    expect(lines.slice(2, 4)).toEqual([
      '{"index":{"_index":"zipkin-autocomplete-2026-04-08","_id":"environment=prod"}}',
      '{"tagKey":"environment","tagValue":"prod"}',
    ]);
    expect(await writer!.write([tagged(3)])).toMatchObject({ written: 1, autocompleteWritten: 0 });
  });

  it('adds pipeline and refresh parameters', async () => {
    const es = await setup((req) => ({ status: 200, body: bulkAnswer(req.body, () => 201) }), { pipeline: 'p1', refresh: 'wait_for' });
    await writer!.write([span(1)]);
    expect(es.bulkRequests()[0]!.url).toBe('/_bulk?pipeline=p1&refresh=wait_for');
  });

  it('inserts _type on clusters with mapping types', async () => {
    const es = await setup((req) => ({ status: 200, body: bulkAnswer(req.body, () => 201) }), {
      version: { distribution: 'elasticsearch', major: 6, minor: 8 },
      ensureTemplates: false,
    });
    await writer!.write([span(1)]);
    expect(es.bulkRequests()[0]!.body.split('\n')[0]).toMatch(/^\{"index":\{"_index":"zipkin:span-2026-04-08","_type":"span","_id":"/);
  });

  it('shutdown interrupts a write that is still retrying', async () => {
    await setup(() => ({ status: 429, body: {} }), { retry: { initialDelayMs: 50, maxDelayMs: 50 } });
    const pending = expect(writer!.write([span(1)])).rejects.toMatchObject({ code: 'WRITER_SHUT_DOWN', retryable: false });
    await new Promise((r) => setTimeout(r, 30));
    await writer!.shutdown();
    await pending;
  });

  it("tells a write's caller about each retry and stops retrying when the write's signal aborts", async () => {
    let full = true;
    await setup((req) => (full ? { status: 429, body: {} } : { status: 200, body: bulkAnswer(req.body, () => 201) }), {
      retry: { initialDelayMs: 20, maxDelayMs: 20 },
    });
    const abort = new AbortController();
    const heard: RetryEvent[] = [];
    const pending = expect(writer!.write([span(1)], { signal: abort.signal, onRetry: (e) => heard.push(e) })).rejects.toMatchObject({
      code: 'WRITER_SHUT_DOWN',
    });
    await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    await pending;
    expect(heard.length).toBeGreaterThan(0);
    expect(heard[0]).toMatchObject({ attempt: 1, cause: '429', items: 1 });
    // Only that write stopped: the writer takes the next one.
    full = false;
    expect(await writer!.write([span(2)])).toMatchObject({ written: 1 });
  });

  it('encodes and sends at most maxConcurrency writes at a time; the others wait without sending', async () => {
    const es = await setup(() => ({ status: 429, body: {} }), { maxConcurrency: 1, retry: { initialDelayMs: 5, maxDelayMs: 5 } });
    const abort = new AbortController();
    const first = expect(writer!.write([span(1)], { signal: abort.signal })).rejects.toMatchObject({ code: 'WRITER_SHUT_DOWN' });
    const second = expect(writer!.write([span(2)], { signal: abort.signal })).rejects.toMatchObject({ code: 'WRITER_SHUT_DOWN' });
    await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    await Promise.all([first, second]);
    const ids = new Set(es.bulkRequests().flatMap((r) => bulkIds(r.body)));
    expect([...ids]).toEqual([encodeSpanDocument(span(1)).id]);
  });

  it('needs a url or http client', () => {
    expect(() => new ElasticsearchSpanWriter({})).toThrow(/needs `url`/);
    expect(() => new ElasticsearchSpanWriter({ url: 'localhost:9200' })).toThrow(/http\(s\):\/\//);
    expect(() => new ElasticsearchSpanWriter({ url: 'http://x:9200', maxConcurrency: 0 })).toThrow(/maxConcurrency/);
  });
});
