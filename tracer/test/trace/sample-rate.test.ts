import { createTraceState, defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { probabilityOfThreshold, SAMPLING_THRESHOLD_TAG, thresholdOfPercent } from '@pintrace/model';
import { ProbabilisticSampler } from '@pintrace/sampler';
import { TraceContextPropagator, type Tracing } from '@pintrace/tracer';
import { closeAfterEach, memoryTracingFor, type MemoryTracingOptions } from '../helpers.js';

const closers = closeAfterEach();
const setup = (options: MemoryTracingOptions = {}) => memoryTracingFor(closers, options);

/** A root that the sampler keeps at `percent`: tries ids until one is sampled. */
function sampledRoot(tracing: Tracing) {
  for (let i = 0; i < 10_000; i++) {
    const span = tracing.tracer.startSpan('get /a');
    if (span.isRecording()) return span;
  }
  throw new Error('no root sampled in 10000 tries');
}

describe('the rate that admitted a trace travels with it', () => {
  it('a sampled root carries ot=th in its tracestate and the threshold tag; its local children inherit the tag', () => {
    const { tracing, sink } = setup({ sampler: new ProbabilisticSampler(1) });
    const root = sampledRoot(tracing);
    const th = thresholdOfPercent(1)!;
    expect(root.spanContext().traceState?.get('ot')).toBe(`th:${th}`);
    const child = tracing.tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
    child.end();
    root.end();
    const spans = sink.spans();
    expect(spans.map((s) => s.tags?.[SAMPLING_THRESHOLD_TAG])).toEqual([th, th]);
    expect(probabilityOfThreshold(th)).toBeCloseTo(0.01, 12);
  });

  it('the W3C propagator sends it downstream, and the next service tags its spans with it', () => {
    const { tracing } = setup({ sampler: new ProbabilisticSampler(0.3) });
    const root = sampledRoot(tracing);
    const headers: Record<string, string> = {};
    const w3c = new TraceContextPropagator();
    w3c.inject(trace.setSpan(ROOT_CONTEXT, root), headers, defaultTextMapSetter);
    expect(headers.tracestate).toBe(`ot=th:${thresholdOfPercent(0.3)}`);
    // downstream at another rate: the upstream decision and its rate win
    const { tracing: downstream, sink } = setup({ sampler: new ProbabilisticSampler(100) });
    const server = downstream.tracer.startSpan('server', {}, w3c.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
    server.end();
    expect(sink.spans()[0]!.tags?.[SAMPLING_THRESHOLD_TAG]).toBe(thresholdOfPercent(0.3));
  });

  it("a sampled remote parent's th is recorded as it came; other tracestate entries and ot fields are kept", () => {
    const { tracing, sink } = setup({ sampler: new ProbabilisticSampler(1) });
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: createTraceState('ot=rv:abcdef;th:8,vendor=x'),
    });
    const span = tracing.tracer.startSpan('x', {}, parent);
    expect(span.spanContext().traceState?.serialize()).toBe('ot=rv:abcdef;th:8,vendor=x');
    span.end();
    expect(sink.spans()[0]!.tags?.[SAMPLING_THRESHOLD_TAG]).toBe('8');
    expect(probabilityOfThreshold('8')).toBe(0.5);
  });

  it('at 100 % nothing is added (a span without a rate counts once)', () => {
    const { tracing, sink } = setup({ sampler: new ProbabilisticSampler(100) });
    const root = tracing.tracer.startSpan('r');
    expect(root.spanContext().traceState).toBeUndefined();
    root.end();
    expect(sink.spans()[0]!.tags?.[SAMPLING_THRESHOLD_TAG]).toBeUndefined();
  });

  it('a per-endpoint rate is the one recorded', () => {
    const sampler = new ProbabilisticSampler({ current: () => 100, rateFor: (e) => (e === '/rare' ? 10 : 100) });
    const { tracing, sink } = setup({ sampler });
    for (let i = 0; i < 1000 && sink.spans().length === 0; i++) tracing.tracer.startSpan('get', { attributes: { 'http.path': '/rare' } }).end();
    expect(sink.spans()[0]!.tags?.[SAMPLING_THRESHOLD_TAG]).toBe(thresholdOfPercent(10));
  });
});
