/**
 * Acceptance: the real zipkin-server (the devstack's, reading the default `zipkin` prefix) serves
 * what our collector wrote, for every query the UI makes: trace by id, /traces by serviceName,
 * remoteServiceName, spanName, annotationQuery (tags and annotations), min/maxDuration,
 * /services, /spans, /remoteServices, /autocompleteValues and /dependencies. Data: generated
 * multi-service traces with service names unique to this run, and Zipkin's public sample traces
 * (fresh trace ids, timestamps rebased to now). Each trace is put on Kafka in two messages, so
 * the group stage has to join it.
 * Run alone: npx vitest run --project integration test/collector-zipkin-api.test.ts
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, collectorOptions, type Collector, type CollectorConfig } from '@pintrace/collector';
import { createAdmin, createProducer, type SpanProducer, type TopicAdmin } from '@pintrace/kafka';
import { checkSpan, type DependencyLink, type Span } from '@pintrace/model';
import { createLogger, resolveConfig } from '@pintrace/runtime';
import { Registry } from 'prom-client';
import { linkTrace } from '../collector/src/dependency-linker.js';
import { canonical, multiServiceTrace, zipkinSampleTraces } from './collector-fixtures.js';
import { esUrl, eventually, getJson, kafkaBrokers, searchAll, uniqueName, zipkinUrl } from './support/servers.js';

const topic = uniqueName('collector-api');
const u = uniqueName('ca'); // service-name prefix unique to this run
const log = createLogger('collector-api-test', { level: process.env.PINTRACE_LOG_LEVEL ?? 'warn' });
const api = `${zipkinUrl}/api/v2`;

const config: CollectorConfig = {
  ...resolveConfig(collectorOptions, { env: {} }),
  kafka: kafkaBrokers,
  es: esUrl,
  topic,
  groupId: `${topic}-group`,
  indexPrefix: 'zipkin', // what the devstack's zipkin-server reads
  metricsPort: 0,
  batchTimeMs: 50,
  groupWindowMs: 400,
  dependencyFlushMs: 300,
  autocompleteKeys: ['http.path', 'http.method', 'error'],
};

const normalised = (spans: Span[]) =>
  spans
    .map((s) => {
      const r = checkSpan(s);
      if (!r.ok) throw new Error(`fixture span invalid: ${r.message}`);
      return canonical(r.span);
    })
    .sort();

describe('collector → Elasticsearch → the real zipkin-server API', () => {
  let producer: SpanProducer;
  let admin: TopicAdmin;
  let collector: Collector | undefined;
  const generated: Span[][] = [];
  let samples: Array<{ file: string; spans: Span[] }> = [];
  const endTs = () => Date.now() + 60_000;
  const q = (path: string, params: Record<string, string | number> = {}) =>
    getJson<unknown>(`${api}${path}?${new URLSearchParams(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]))).toString()}`);
  const traceIds = async (params: Record<string, string | number>) =>
    ((await q('/traces', { endTs: endTs(), lookback: 3_600_000, limit: 1000, ...params })) as Span[][]).map((t) => t[0]!.traceId).sort();

  beforeAll(async () => {
    admin = createAdmin(kafkaBrokers);
    await admin.ensureTopic(topic, 3);
    producer = createProducer({ brokers: kafkaBrokers });
    await producer.connect();
    for (let i = 0; i < 12; i++) {
      generated.push(multiServiceTrace(u, { error: i % 3 === 0, slow: i % 4 === 0, path: i % 2 === 0 ? `/${u}/even` : `/${u}/odd` }));
    }
    samples = zipkinSampleTraces((Date.now() - 120_000) * 1000);
    const traces = [...generated, ...samples.map((s) => s.spans)];
    // Two messages per trace, so the group stage joins the halves.
    for (const half of [0, 1]) {
      await producer.send(
        topic,
        traces.map((t) => {
          const mid = Math.ceil(t.length / 2);
          return { key: t[0]!.traceId, value: JSON.stringify(half === 0 ? t.slice(0, mid) : t.slice(mid)) };
        }),
      );
    }
    collector = await startCollector(config, { log, registry: new Registry() });
    const expected = traces.reduce((n, t) => n + t.length, 0);
    const ids = traces.map((t) => t[0]!.traceId);
    await eventually(
      async () => {
        const n = (await searchAll('zipkin-span-*', { terms: { traceId: ids } })).length;
        return n >= expected ? n : undefined;
      },
      { what: `${expected} spans in zipkin-span-*`, timeoutMs: 90_000 },
    );
  });

  afterAll(async () => {
    await collector?.shutdown();
    await producer?.disconnect();
    await admin?.close();
  });

  it("/trace/{id} returns every span as written, for generated and for Zipkin's sample traces", async () => {
    for (const t of [...generated.slice(0, 3), ...samples.map((s) => s.spans)]) {
      const got = (await q(`/trace/${t[0]!.traceId}`)) as Span[];
      expect(normalised(got), `trace ${t[0]!.traceId}`).toEqual(normalised(t));
    }
  });

  it('/traces filters by serviceName, remoteServiceName, spanName, annotationQuery and duration', async () => {
    const all = generated.map((t) => t[0]!.traceId).sort();
    expect(await traceIds({ serviceName: `${u}-web` })).toEqual(all);
    expect(await traceIds({ serviceName: `${u}-api`, remoteServiceName: `${u}-db` })).toEqual(all);
    expect(await traceIds({ serviceName: `${u}-web`, spanName: `get /${u}/even` })).toEqual(
      generated
        .filter((_, i) => i % 2 === 0)
        .map((t) => t[0]!.traceId)
        .sort(),
    );
    // Tags (key=value and bare key) and annotations.
    expect(await traceIds({ serviceName: `${u}-api`, annotationQuery: 'error=timeout' })).toEqual(
      generated
        .filter((_, i) => i % 3 === 0)
        .map((t) => t[0]!.traceId)
        .sort(),
    );
    expect(await traceIds({ annotationQuery: `http.path=/${u}/odd` })).toEqual(
      generated
        .filter((_, i) => i % 2 === 1)
        .map((t) => t[0]!.traceId)
        .sort(),
    );
    expect(await traceIds({ serviceName: `${u}-web`, annotationQuery: 'wire.send' })).toEqual(all);
    expect(await traceIds({ serviceName: `${u}-web`, annotationQuery: `http.method=GET and http.path=/${u}/even` })).toEqual(
      generated
        .filter((_, i) => i % 2 === 0)
        .map((t) => t[0]!.traceId)
        .sort(),
    );
    // All terms must hold on one span: an annotation of one span and a tag of another match nothing.
    expect(await traceIds({ serviceName: `${u}-web`, annotationQuery: 'wire.send and http.method=GET' })).toEqual([]);
    // Durations (µs) of the root spans: 900 ms for slow traces, 90 ms otherwise.
    const slow = generated
      .filter((_, i) => i % 4 === 0)
      .map((t) => t[0]!.traceId)
      .sort();
    expect(await traceIds({ serviceName: `${u}-web`, minDuration: 500_000 })).toEqual(slow);
    expect(await traceIds({ serviceName: `${u}-web`, minDuration: 50_000, maxDuration: 100_000 })).toEqual(all.filter((id) => !slow.includes(id)));
    // A sample trace by one of its services.
    const yelp = samples.find((s) => s.file === 'yelp.json')!.spans;
    expect(await traceIds({ serviceName: 'mobile_api', remoteServiceName: 'memcache' })).toContain(yelp[0]!.traceId);
  });

  it('/services, /spans, /remoteServices and /autocompleteValues list what was written', async () => {
    const services = (await q('/services')) as string[];
    for (const s of ['web', 'api', 'worker']) expect(services).toContain(`${u}-${s}`);
    for (const s of ['mobile_api', 'routing', 'servicea', 'serviceb']) expect(services).toContain(s);
    expect(services).toEqual([...services].sort());
    expect(((await q('/spans', { serviceName: `${u}-api` })) as string[]).sort()).toEqual(['get', 'render', 'select', 'send']);
    expect(((await q('/remoteServices', { serviceName: `${u}-api` })) as string[]).sort()).toEqual([`${u}-broker`, `${u}-db`, `${u}-web`]);
    // the autocomplete documents are not among the spans beforeAll waited for: they may show later
    const ours = [`/${u}/even`, `/${u}/odd`];
    const paths = await eventually(
      async () => {
        const values = (await q('/autocompleteValues', { key: 'http.path' })) as string[];
        return ours.every((path) => values.includes(path)) ? values : undefined;
      },
      { what: 'our http.path values in /autocompleteValues', timeoutMs: 30_000 },
    ).catch(async () => (await q('/autocompleteValues', { key: 'http.path' })) as string[]);
    expect(paths).toEqual(expect.arrayContaining(ours));
  });

  it('/dependencies sums our streaming links as zipkin DependencyLinker would count them', async () => {
    const expected = new Map<string, DependencyLink>();
    for (const t of generated)
      linkTrace(
        t.map((s) => (checkSpan(s) as { span: Span }).span),
        expected,
      );
    expect([...expected.values()].sort((a, b) => a.parent.localeCompare(b.parent) || a.child.localeCompare(b.child))).toEqual([
      { parent: `${u}-api`, child: `${u}-broker`, callCount: 12, errorCount: 0 },
      { parent: `${u}-api`, child: `${u}-db`, callCount: 12, errorCount: 4 },
      { parent: `${u}-broker`, child: `${u}-worker`, callCount: 12, errorCount: 0 },
      { parent: `${u}-web`, child: `${u}-api`, callCount: 12, errorCount: 0 },
    ]);
    const ours = await eventually(
      async () => {
        const links = (
          (await q('/dependencies', { endTs: endTs(), lookback: 86_400_000 })) as Array<{
            parent: string;
            child: string;
            callCount: number;
            errorCount?: number;
          }>
        ).filter((l) => l.parent.startsWith(u) || l.child.startsWith(u));
        return links.length === expected.size && links.every((l) => l.callCount === 12) ? links : undefined;
      },
      { what: 'our dependency links', timeoutMs: 30_000 },
    );
    for (const l of ours) {
      const e = expected.get(`${l.parent}|${l.child}`)!;
      expect({ callCount: l.callCount, errorCount: l.errorCount ?? 0 }).toEqual({ callCount: e.callCount, errorCount: e.errorCount });
    }
    // The sample traces' links appear too (other runs may add to them, so at least ours).
    const sampleLinks = new Map<string, DependencyLink>();
    for (const { spans } of samples)
      linkTrace(
        spans.map((s) => (checkSpan(s) as { span: Span }).span),
        sampleLinks,
      );
    const all = (await q('/dependencies', { endTs: endTs(), lookback: 86_400_000 })) as Array<{ parent: string; child: string; callCount: number }>;
    for (const l of sampleLinks.values()) {
      const found = all.find((x) => x.parent === l.parent && x.child === l.child);
      expect(found?.callCount ?? 0, `${l.parent}→${l.child}`).toBeGreaterThanOrEqual(l.callCount);
    }
  });
});
