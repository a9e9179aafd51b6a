import type http from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { ALWAYS_SAMPLE, type Sampler } from '@pintrace/sampler';
import { InMemorySpanSink, silentLogger, startTracing, type Tracing } from '@pintrace/tracer';

export interface MemoryTracingOptions {
  serviceName?: string;
  sampler?: Sampler;
  joinServerSpans?: boolean;
  traceId128Bit?: boolean;
}

/** A tracing setup reporting to memory, without globals or patches. */
export function memoryTracing(options: MemoryTracingOptions = {}): {
  tracing: Tracing;
  sink: InMemorySpanSink;
} {
  const sink = new InMemorySpanSink();
  const tracing = startTracing({
    serviceName: options.serviceName ?? 'test-svc',
    sink,
    sampler: options.sampler ?? ALWAYS_SAMPLE,
    joinServerSpans: options.joinServerSpans,
    traceId128Bit: options.traceId128Bit,
    registerGlobal: false,
    logger: silentLogger,
  });
  return { tracing, sink };
}

/** What a test opened, closed in reverse order after it. Call once, at the top of a test file. */
export type Closers = Array<() => Promise<void> | void>;

export function closeAfterEach(): Closers {
  const closers: Closers = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  return closers;
}

/** memoryTracing, shut down after the test. */
export function memoryTracingFor(closers: Closers, options: MemoryTracingOptions = {}): ReturnType<typeof memoryTracing> {
  const result = memoryTracing(options);
  closers.push(() => result.tracing.shutdown());
  return result;
}

/** Listens on a free loopback port, closed with its connections after the test; the server's base URL. */
export async function listenFor(closers: Closers, server: http.Server | https.Server, scheme = 'http'): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
