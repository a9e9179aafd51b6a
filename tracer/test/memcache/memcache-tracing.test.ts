import { context, trace, type Span } from '@opentelemetry/api';
import { MemcacheClient } from 'memcache-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NEVER_SAMPLE } from '@pintrace/sampler';
import { traceMemcacheClient } from '@pintrace/tracer';
import { memoryTracing } from '../helpers.js';
import { startMemcached, type Memcached } from '@pintrace/demo';

let memcached: Memcached;
beforeAll(async () => {
  memcached = await startMemcached();
});
afterAll(async () => {
  await memcached?.stop();
});

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function setup(options: Parameters<typeof memoryTracing>[0] = {}, recordKeys = false) {
  const { tracing, sink } = memoryTracing(options);
  const client = traceMemcacheClient(tracing, new MemcacheClient({ server: memcached.server }), { cluster: 'feed-cache', recordKeys });
  closers.push(() => tracing.shutdown());
  closers.push(() => client.shutdown());
  return { tracing, sink, client };
}

const key = (name: string) => `${name}-${Math.random().toString(36).slice(2)}`;

describe('memcache client spans (real memcached)', () => {
  it('get miss, set, get hit: CLIENT spans with cluster, hit/miss and the server as remote endpoint', async () => {
    const { tracing, sink, client } = setup({}, true);
    const k = key('pin');
    await tracing.tracer.startActiveSpan('caller', async (caller: Span) => {
      expect(await client.get(k)).toBeUndefined();
      await client.set(k, 'v1');
      expect((await client.get<string>(k))?.value).toBe('v1');
      caller.end();
    });
    const [miss, set, hit, caller] = sink.spans();
    for (const span of [miss, set, hit]) {
      expect(span).toMatchObject({
        kind: 'CLIENT',
        traceId: caller.traceId,
        parentId: caller.id,
        remoteEndpoint: { serviceName: 'feed-cache', ipv4: '127.0.0.1', port: memcached.port },
        tags: { 'memcache.cluster': 'feed-cache', 'memcache.key': k },
      });
    }
    expect(miss).toMatchObject({ name: 'memcache_get', tags: { 'memcache.hit': 'false' } });
    expect(set.name).toBe('memcache_set');
    expect(hit).toMatchObject({ name: 'memcache_get', tags: { 'memcache.hit': 'true' } });
    expect(hit.tags?.error).toBeUndefined();
  });

  it('multi-get counts keys and hits; keys are not tagged by default', async () => {
    const { sink, client } = setup();
    const [a, b, c] = [key('a'), key('b'), key('c')];
    await client.set(a, '1');
    await client.set(b, '2');
    const found = await client.get<Record<string, unknown>>([a, b, c]);
    expect(Object.keys(found).sort()).toEqual([a, b].sort());
    const multi = sink.spans().find((s) => s.name === 'memcache_get_multi');
    expect(multi?.tags).toMatchObject({ 'memcache.keys': '3', 'memcache.hits': '2' });
    expect(multi?.tags?.['memcache.key']).toBeUndefined();
  });

  it('delete, incr, touch and add: NOT_FOUND is a miss and NOT_STORED an outcome, not errors', async () => {
    const { sink, client } = setup();
    const k = key('d');
    await expect(client.delete(k)).rejects.toThrow('NOT_FOUND');
    await client.set(k, '5');
    await expect(client.add(k, '6')).rejects.toThrow('NOT_STORED');
    expect(await client.incr(k, 2)).toBe('7');
    await client.touch(k, 60);
    await client.delete(k);
    const byName = sink.spans().map((s) => [s.name, s.tags?.['memcache.hit'] ?? s.tags?.['memcache.result'] ?? '', s.tags?.error ?? '']);
    expect(byName).toEqual([
      ['memcache_delete', 'false', ''],
      ['memcache_set', '', ''],
      ['memcache_add', 'NOT_STORED', ''],
      ['memcache_incr', 'true', ''],
      ['memcache_touch', 'true', ''],
      ['memcache_delete', 'true', ''],
    ]);
  });

  it('a server error is an error span', async () => {
    const { sink, client } = setup();
    await expect(client.incr(key('text'), 1)).rejects.toThrow();
    const k = key('t');
    await client.set(k, 'not a number');
    await expect(client.incr(k, 1)).rejects.toThrow();
    expect(sink.spans()[2].tags?.error).toMatch(/CLIENT_ERROR|non-numeric/i);
  });

  it('callbacks run in the caller context, even on a socket opened by another trace', async () => {
    const { tracing, client } = setup();
    const k = key('cb');
    await client.set(k, 'x');
    const seen = await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        tracing.tracer.startActiveSpan(
          name,
          (span: Span) =>
            new Promise<boolean>((resolve) => {
              void client.get(k, (err) => {
                resolve(!err && trace.getActiveSpan()?.spanContext().spanId === span.spanContext().spanId);
                span.end();
              });
            }),
        ),
      ),
    );
    expect(seen).toEqual([true, true, true]);
    // promise continuations too
    await tracing.tracer.startActiveSpan('p', async (span: Span) => {
      await client.get(k);
      expect(trace.getActiveSpan()).toBe(span);
      span.end();
    });
    expect(context.active()).toBeDefined();
  });

  it('returns the client promise itself and records nothing when unsampled', async () => {
    const { sink, client } = setup({ sampler: NEVER_SAMPLE });
    const k = key('u');
    await client.set(k, 'y');
    expect((await client.get<string>(k))?.value).toBe('y');
    expect(sink.spans()).toEqual([]);
  });

  it('wrapping twice makes one span per call', async () => {
    const { tracing, sink, client } = setup();
    traceMemcacheClient(tracing, client);
    await client.get(key('once'));
    expect(sink.spans()).toHaveLength(1);
  });
});
