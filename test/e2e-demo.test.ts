import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, startMemcached, type Demo, type Memcached } from '@pintrace/demo';
import type { Span } from '@pintrace/model';
import { agentArgs, collectorArgs } from './support/part-args.js';
import { startPart, type RunningPart } from './support/processes.js';
import { esUrl, eventually, getJson, kafkaBrokers, uniqueName, zipkinUrl } from './support/servers.js';

/**
 * The whole walking skeleton: an HTTP frontend calling a Thrift (TTwitter) backend that reads
 * through a real memcached → span files → agent → Kafka → collector → Elasticsearch (default
 * `zipkin` indices) → read back from the real Zipkin server's API.
 */
describe('demo request → Zipkin API, end to end', () => {
  const topic = uniqueName('e2e');
  const frontendService = uniqueName('front');
  const backendService = uniqueName('back');
  const cacheCluster = uniqueName('cache');
  const spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-e2e-'));
  let agent: RunningPart;
  let collector: RunningPart;
  let demo: Demo;
  let memcached: Memcached;

  beforeAll(async () => {
    collector = startPart(
      'e2e-collector',
      collectorArgs({ kafka: kafkaBrokers.join(','), es: esUrl, topic, groupId: `${topic}-collector`, indexReplicas: 0, metricsPort: 0 }),
    );
    agent = startPart('e2e-agent', agentArgs({ kafka: kafkaBrokers.join(','), topic, spansDir, metricsPort: 0 }));
    memcached = await startMemcached();
    demo = await startDemo({ spansDir, frontendService, backendService, sampleRate: 100, memcachedUrl: memcached.server, memcacheCluster: cacheCluster });
  });

  afterAll(async () => {
    await demo?.shutdown();
    await Promise.all([agent?.stop(), collector?.stop(), memcached?.stop()]);
  });

  it('returns the trace from /api/v2/trace/{id} with the right parent/child structure, and from /traces?serviceName', async () => {
    const res = await fetch(`${demo.frontendUrl}/`);
    expect(res.status).toBe(200);
    const traceId = res.headers.get('x-trace-id');
    expect(traceId).toMatch(/^[0-9a-f]{16}([0-9a-f]{16})?$/);
    await demo.flush();

    const trace = await eventually(
      async () => {
        const spans = await getJson<Span[]>(`${zipkinUrl}/api/v2/trace/${traceId}`).catch(() => [] as Span[]);
        return spans.length >= 6 ? spans : undefined;
      },
      { what: `trace ${traceId} in zipkin-server`, timeoutMs: 90_000 },
    );

    // frontend SERVER get → frontend CLIENT work (Thrift) → backend SERVER work (shared id)
    //   → backend memcache_get (miss), compute, memcache_set
    const root = trace.find((s) => !s.parentId)!;
    expect(root).toMatchObject({ kind: 'SERVER', name: 'get', localEndpoint: { serviceName: frontendService } });
    const client = trace.find((s) => s.kind === 'CLIENT' && s.localEndpoint?.serviceName === frontendService)!;
    expect(client).toMatchObject({ name: 'work', parentId: root.id, remoteEndpoint: { serviceName: backendService } });
    expect(client.remoteEndpoint?.port).toBe(Number(new URL(demo.backendUrl).port));
    // Zipkin's convention (and Finagle's): the server side of an RPC shares the client's span id.
    const server = trace.find((s) => s.kind === 'SERVER' && s.localEndpoint?.serviceName === backendService)!;
    expect(server).toMatchObject({ name: 'work', id: client.id, parentId: root.id, shared: true });
    const local = trace.find((s) => !s.kind && s.localEndpoint?.serviceName === backendService)!;
    expect(local).toMatchObject({ name: 'compute', parentId: client.id });
    const cache = trace.filter((s) => s.kind === 'CLIENT' && s.localEndpoint?.serviceName === backendService);
    expect(cache.map((s) => s.name).sort()).toEqual(['memcache_get', 'memcache_set']);
    for (const span of cache) {
      expect(span).toMatchObject({
        parentId: server.id,
        remoteEndpoint: { serviceName: cacheCluster, ipv4: '127.0.0.1', port: memcached.port },
        tags: { 'memcache.cluster': cacheCluster },
      });
    }
    expect(cache.find((s) => s.name === 'memcache_get')?.tags?.['memcache.hit']).toBe('false');
    expect(trace).toHaveLength(6);
    expect(new Set(trace.map((s) => s.traceId))).toEqual(new Set([traceId]));

    const found = await eventually(
      async () => {
        const traces = await getJson<Span[][]>(`${zipkinUrl}/api/v2/traces?serviceName=${frontendService}&limit=10`);
        return traces.some((t) => t[0]?.traceId === traceId) ? traces : undefined;
      },
      { what: `/traces?serviceName=${frontendService}` },
    );
    expect(found.flat().every((s) => s.traceId === traceId)).toBe(true);
    expect(await getJson<string[]>(`${zipkinUrl}/api/v2/services`)).toEqual(expect.arrayContaining([frontendService, backendService]));
  });
});
