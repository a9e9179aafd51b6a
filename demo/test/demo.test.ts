import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeSpanLine, type Span } from '@pintrace/model';
import { silentLogger } from '@pintrace/tracer';
import { driveTraffic, startDemo, type Demo } from '@pintrace/demo';
import { startMemcached, type Memcached } from '../src/memcached.js';

let memcached: Memcached;
beforeAll(async () => {
  memcached = await startMemcached();
});
afterAll(async () => {
  await memcached?.stop();
});

let dir: string;
let demo: Demo | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'demo-'));
});
afterEach(async () => {
  await demo?.shutdown();
  demo = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The spans in every file of a service: one per process (`<service>@<instance>.jsonl`), live or rotated. */
async function spansOf(service: string): Promise<Span[]> {
  const names = (await readdir(dir)).filter((n) => n.startsWith(`${service}@`) || n.startsWith(`${service}.jsonl`));
  const text = (await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8').catch(() => '')))).join('');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const decoded = decodeSpanLine(line);
      if (!decoded.ok) throw new Error(`bad span line: ${line}`);
      return decoded.span;
    });
}

describe('demo', () => {
  it('HTTP front → Thrift (TTwitter) backend → memcached: one trace, miss then hit', async () => {
    demo = await startDemo({ spansDir: dir, memcachedUrl: memcached.server, logger: silentLogger });
    expect(demo.backendUrl).toMatch(/^thrift:\/\/127\.0\.0\.1:\d+$/);
    const n = 10 + Math.floor(Math.random() * 15); // a key no earlier run cached
    const first = await fetch(`${demo.frontendUrl}/?n=${n}`);
    const body = (await first.json()) as { traceId: string; backend: { n: number; result: number; cached: boolean } };
    expect(first.status).toBe(200);
    expect(body.backend).toMatchObject({ n, cached: false });
    expect(first.headers.get('x-trace-id')).toBe(body.traceId);
    expect(body.traceId).toMatch(/^[0-9a-f]{16}$/);
    const second = (await (await fetch(`${demo.frontendUrl}/?n=${n}`)).json()) as typeof body;
    expect(second.backend).toMatchObject({ n, result: body.backend.result, cached: true });
    await demo.shutdown();

    const frontend = (await spansOf('frontend')).filter((s) => s.traceId === body.traceId);
    const backend = (await spansOf('backend')).filter((s) => s.traceId === body.traceId);
    const feServer = frontend.find((s) => s.kind === 'SERVER')!;
    const feClient = frontend.find((s) => s.kind === 'CLIENT')!;
    const beServer = backend.find((s) => s.kind === 'SERVER')!;
    const compute = backend.find((s) => s.name === 'compute')!;
    const get = backend.find((s) => s.name === 'memcache_get')!;
    const set = backend.find((s) => s.name === 'memcache_set')!;
    expect(frontend).toHaveLength(2);
    expect(backend).toHaveLength(4);

    expect(feServer).toMatchObject({ name: 'get', localEndpoint: { serviceName: 'frontend' }, tags: { 'http.path': '/', 'http.status_code': '200' } });
    expect(feServer.parentId).toBeUndefined();
    expect(feClient).toMatchObject({
      parentId: feServer.id,
      name: 'work',
      remoteEndpoint: { serviceName: 'backend', port: Number(new URL(demo.backendUrl).port) },
    });
    expect(beServer).toMatchObject({ name: 'work', id: feClient.id, parentId: feServer.id, shared: true, localEndpoint: { serviceName: 'backend' } });
    expect(get).toMatchObject({
      kind: 'CLIENT',
      parentId: beServer.id,
      tags: { 'memcache.cluster': 'demo-cache', 'memcache.hit': 'false' },
      remoteEndpoint: { serviceName: 'demo-cache', port: memcached.port },
    });
    expect(compute).toMatchObject({ parentId: beServer.id, tags: { 'demo.n': String(n) } });
    expect(compute.kind).toBeUndefined();
    expect(compute.annotations?.map((a) => a.value)).toEqual(['computed']);
    expect(set).toMatchObject({ kind: 'CLIENT', parentId: beServer.id });
    // the client span covers the backend's work
    expect(feClient.timestamp!).toBeLessThanOrEqual(beServer.timestamp!);
    expect(feServer.duration!).toBeGreaterThanOrEqual(feClient.duration!);

    const hit = (await spansOf('backend')).filter((s) => s.traceId === second.traceId);
    expect(hit.map((s) => s.name).sort()).toEqual(['memcache_get', 'work']);
    expect(hit.find((s) => s.name === 'memcache_get')?.tags?.['memcache.hit']).toBe('true');
  });

  it('without memcached the backend computes every time', async () => {
    demo = await startDemo({ spansDir: dir, logger: silentLogger });
    const res = await fetch(`${demo.frontendUrl}/`);
    const body = (await res.json()) as { backend: { result: number; cached: boolean } };
    expect(body.backend).toMatchObject({ result: 6765, cached: false });
    await demo.shutdown();
    expect((await spansOf('backend')).map((s) => s.name).sort()).toEqual(['compute', 'work']);
  });

  it('a backend failure shows as error spans on both sides', async () => {
    demo = await startDemo({ spansDir: dir, logger: silentLogger });
    const res = await fetch(`${demo.frontendUrl}/fail`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toBe('asked to fail');
    await demo.shutdown();
    const [feClient] = (await spansOf('frontend')).filter((s) => s.kind === 'CLIENT');
    const [beServer] = await spansOf('backend');
    expect(feClient.tags).toMatchObject({ error: 'asked to fail' });
    expect(beServer.tags).toMatchObject({ error: 'asked to fail' });
  });

  it('the slow path takes slowMs longer', async () => {
    demo = await startDemo({ spansDir: dir, slowMs: 120, logger: silentLogger });
    const res = await fetch(`${demo.frontendUrl}/slow`);
    expect(res.status).toBe(200);
    await demo.shutdown();
    const [beServer] = (await spansOf('backend')).filter((s) => s.kind === 'SERVER');
    expect(beServer.duration!).toBeGreaterThanOrEqual(110_000);
  });

  it('the frontend sample rate decides for the whole trace', async () => {
    demo = await startDemo({ spansDir: dir, sampleRate: 0, memcachedUrl: memcached.server, logger: silentLogger });
    const result = await driveTraffic(demo.frontendUrl, { rps: 200, requests: 20, errorPercent: 0, slowPercent: 0 });
    expect(result).toMatchObject({ sent: 20, ok: 20, failed: 0 });
    await demo.shutdown();
    expect(await spansOf('frontend')).toEqual([]);
    expect(await spansOf('backend')).toEqual([]);
  });

  it('driveTraffic sends at the given rate and every answered trace is in the files', async () => {
    demo = await startDemo({ spansDir: dir, logger: silentLogger });
    const started = Date.now();
    const result = await driveTraffic(demo.frontendUrl, { rps: 100, durationMs: 300, errorPercent: 0, slowPercent: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    // at most one request per 10 ms within 300 ms; fewer when timers run late on a busy machine
    expect(result.sent).toBeGreaterThanOrEqual(10);
    expect(result.sent).toBeLessThanOrEqual(32);
    expect(result.ok).toBe(result.sent);
    await demo.shutdown();
    const frontendTraces = new Set((await spansOf('frontend')).map((s) => s.traceId));
    const backendTraces = new Set((await spansOf('backend')).map((s) => s.traceId));
    for (const id of result.traceIds) {
      expect(frontendTraces.has(id)).toBe(true);
      expect(backendTraces.has(id)).toBe(true);
    }
    expect(result.traceIds).toHaveLength(result.sent);
  });

  it('driveTraffic mixes in error and slow requests', async () => {
    demo = await startDemo({ spansDir: dir, slowMs: 1, logger: silentLogger });
    const failing = await driveTraffic(demo.frontendUrl, { rps: 500, requests: 5, errorPercent: 100 });
    expect(failing).toMatchObject({ sent: 5, ok: 0, failed: 5 });
    const slow = await driveTraffic(demo.frontendUrl, { rps: 500, requests: 5, errorPercent: 0, slowPercent: 100 });
    expect(slow).toMatchObject({ sent: 5, ok: 5 });
    await demo.shutdown();
    const paths = (await spansOf('frontend')).filter((s) => s.kind === 'SERVER').map((s) => s.tags?.['http.path']);
    expect(paths.filter((p) => p === '/fail')).toHaveLength(5);
    expect(paths.filter((p) => p === '/slow')).toHaveLength(5);
  });

  it('shutdown is idempotent', async () => {
    demo = await startDemo({ spansDir: dir, memcachedUrl: memcached.server, logger: silentLogger });
    await Promise.all([demo.shutdown(), demo.shutdown()]);
  });
});
