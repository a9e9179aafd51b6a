import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeSpanLine, type Span } from '@pintrace/model';
import { silentLogger } from '@pintrace/tracer';
import { driveTraffic, startDemo, type Demo } from '@pintrace/demo';

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

async function spansOf(service: string): Promise<Span[]> {
  const text = await readFile(join(dir, `${service}.jsonl`), 'utf8').catch(() => '');
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
  it('one request makes frontend SERVER → frontend CLIENT → backend SERVER (shared) → backend compute', async () => {
    demo = await startDemo({ spansDir: dir, logger: silentLogger });
    const res = await fetch(`${demo.frontendUrl}/`);
    const body = (await res.json()) as { traceId: string; backend: { result: number } };
    expect(res.status).toBe(200);
    expect(body.backend.result).toBe(6765);
    expect(res.headers.get('x-trace-id')).toBe(body.traceId);
    expect(body.traceId).toMatch(/^[0-9a-f]{16}$/);
    await demo.shutdown();

    const frontend = (await spansOf('frontend')).filter((s) => s.traceId === body.traceId);
    const backend = (await spansOf('backend')).filter((s) => s.traceId === body.traceId);
    const feServer = frontend.find((s) => s.kind === 'SERVER')!;
    const feClient = frontend.find((s) => s.kind === 'CLIENT')!;
    const beServer = backend.find((s) => s.kind === 'SERVER')!;
    const compute = backend.find((s) => s.name === 'compute')!;
    expect(frontend).toHaveLength(2);
    expect(backend).toHaveLength(2);

    expect(feServer).toMatchObject({ name: 'get', localEndpoint: { serviceName: 'frontend' }, tags: { 'http.path': '/', 'http.status_code': '200' } });
    expect(feServer.parentId).toBeUndefined();
    expect(feClient).toMatchObject({ parentId: feServer.id, name: 'get', tags: { 'http.path': '/work', 'http.status_code': '200' } });
    expect(beServer).toMatchObject({ id: feClient.id, parentId: feServer.id, shared: true, localEndpoint: { serviceName: 'backend' } });
    expect(compute).toMatchObject({ parentId: beServer.id, tags: { 'demo.n': '20' } });
    expect(compute.kind).toBeUndefined();
    expect(compute.annotations?.map((a) => a.value)).toEqual(['computed']);
    // the client span covers the backend's work
    expect(feClient.timestamp!).toBeLessThanOrEqual(beServer.timestamp!);
    expect(feServer.duration!).toBeGreaterThanOrEqual(feClient.duration!);
  });

  it('a backend failure shows as error spans on both sides', async () => {
    demo = await startDemo({ spansDir: dir, logger: silentLogger });
    const res = await fetch(`${demo.frontendUrl}/fail`);
    expect(res.status).toBe(502);
    await demo.shutdown();
    const [feClient] = (await spansOf('frontend')).filter((s) => s.kind === 'CLIENT');
    const [beServer] = await spansOf('backend');
    expect(feClient.tags).toMatchObject({ 'http.status_code': '500', error: '500' });
    expect(beServer.tags).toMatchObject({ 'http.status_code': '500', error: '500' });
  });

  it('the frontend sample rate decides for the whole trace', async () => {
    demo = await startDemo({ spansDir: dir, sampleRate: 0, logger: silentLogger });
    const result = await driveTraffic(demo.frontendUrl, { rps: 200, requests: 20 });
    expect(result).toMatchObject({ sent: 20, ok: 20, failed: 0 });
    await demo.shutdown();
    expect(await spansOf('frontend')).toEqual([]);
    expect(await spansOf('backend')).toEqual([]);
  });

  it('driveTraffic sends at the given rate and every answered trace is in the files', async () => {
    demo = await startDemo({ spansDir: dir, logger: silentLogger });
    const started = Date.now();
    const result = await driveTraffic(demo.frontendUrl, { rps: 100, durationMs: 300 });
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

  it('shutdown is idempotent', async () => {
    demo = await startDemo({ spansDir: dir, logger: silentLogger });
    await Promise.all([demo.shutdown(), demo.shutdown()]);
  });
});
