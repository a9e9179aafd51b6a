import type net from 'node:net';
import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { createTTwitterServer, type ThriftTracing } from '@pintrace/tracer';
import { DemoError, DemoService, type DemoHandler, type WorkResult } from './demo-service.js';

/** The cache the backend reads through: memcache-client's `get`/`set` (traced or not). */
export interface DemoCache {
  get(key: string): Promise<{ value: unknown } | undefined>;
  set(key: string, value: string, options?: { lifetime?: number }): Promise<unknown>;
}

export interface BackendOptions {
  /** Where results are cached; without one every call computes. */
  cache?: DemoCache;
  /** How long the `slow` mode waits. Default 300 ms. */
  slowMs?: number;
  /** Cache entry lifetime in seconds (so misses keep happening). Default 10. */
  cacheLifetimeSec?: number;
}

/**
 * The demo backend: a Thrift `DemoService` served over Finagle TTwitter (framed, binary).
 * `work(n, mode)` looks `fib:<n>` up in memcached; on a miss it computes fibonacci(n) in a local
 * `compute` span and stores it. Mode `fail` throws DemoError (an error span on both sides),
 * mode `slow` waits `slowMs` first (a slow trace for tail sampling).
 */
export function createBackend(tracing: ThriftTracing, options: BackendOptions = {}): net.Server {
  return createTTwitterServer(tracing, DemoService, handler(tracing.tracer, options));
}

function handler(tracer: Tracer, options: BackendOptions): DemoHandler {
  const slowMs = options.slowMs ?? 300;
  const lifetime = options.cacheLifetimeSec ?? 10;
  const cache = options.cache;
  return {
    async work(n, mode) {
      if (mode === 'fail') throw new DemoError({ message: 'asked to fail' });
      if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, slowMs));
      const clamped = Math.min(Math.max(Math.trunc(n) || 20, 1), 30);
      const key = `demo:fib:${clamped}`;
      if (cache) {
        const hit = await cache.get(key).catch(() => undefined);
        if (hit !== undefined && hit !== null) return { n: clamped, result: Number(hit.value), cached: true };
      }
      const result = await compute(tracer, clamped);
      if (cache) await cache.set(key, String(result.result), { lifetime }).catch(() => undefined);
      return result;
    },
  };
}

function compute(tracer: Tracer, n: number): Promise<WorkResult> {
  return tracer.startActiveSpan('compute', { attributes: { 'demo.n': n } }, async (span) => {
    try {
      await new Promise((resolve) => setImmediate(resolve));
      const result = fibonacci(n);
      span.addEvent('computed');
      return { n, result, cached: false };
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

function fibonacci(n: number): number {
  let a = 0;
  let b = 1;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}
