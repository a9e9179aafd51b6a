import { ALWAYS_SAMPLE, type Sampler } from '@pintrace/sampler';
import { InMemorySpanSink, silentLogger, startTracing, type Tracing } from '@pintrace/tracer';

/** A tracing setup reporting to memory, without globals or patches. */
export function memoryTracing(options: { serviceName?: string; sampler?: Sampler; joinServerSpans?: boolean; traceId128Bit?: boolean } = {}): {
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
