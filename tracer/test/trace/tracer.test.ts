import { context, defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ALWAYS_SAMPLE, NEVER_SAMPLE, ProbabilisticSampler } from '@pintrace/sampler';
import { B3Propagator, InMemorySpanSink, PintraceTracerProvider, RecordingSpan, silentLogger } from '@pintrace/tracer';
import { startOwnSpan } from '../../src/trace/tracer.js';
import { closeAfterEach, memoryTracingFor, type MemoryTracingOptions } from '../helpers.js';

const TRACE64 = '463ac35c9f6413ad';
const SPAN = 'a2fb4a1d1a96d312';
const PARENT = '0020000000000001';
const b3 = new B3Propagator();
const remote = (headers: Record<string, string>) => b3.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);

const closers = closeAfterEach();
const setup = (options: MemoryTracingOptions = {}) => memoryTracingFor(closers, options);

describe('sampling', () => {
  it('a root span asks the sampler; its children inherit the decision', () => {
    const { tracing, sink } = setup({ sampler: NEVER_SAMPLE });
    const root = tracing.tracer.startSpan('root');
    expect(root.isRecording()).toBe(false);
    const child = tracing.tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
    expect(child.isRecording()).toBe(false);
    expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
    child.end();
    root.end();
    expect(sink.spans()).toEqual([]);
  });

  it('unsampled spans are plain non-recording spans, not recording ones', () => {
    const { tracing } = setup({ sampler: NEVER_SAMPLE });
    const span = tracing.tracer.startSpan('x', { attributes: { a: 1 } });
    expect(span).not.toBeInstanceOf(RecordingSpan);
    expect(() => span.setAttribute('b', 2).addEvent('e').setStatus({ code: SpanStatusCode.ERROR }).end()).not.toThrow();
  });

  it('honours a propagated accept, deny and debug whatever the local rate', () => {
    const { tracing, sink } = setup({ sampler: new ProbabilisticSampler(0) });
    expect(tracing.tracer.startSpan('a', {}, remote({ b3: `${TRACE64}-${SPAN}-1` })).isRecording()).toBe(true);
    const { tracing: all } = setup({ sampler: new ProbabilisticSampler(100) });
    expect(all.tracer.startSpan('d', {}, remote({ b3: `${TRACE64}-${SPAN}-0` })).isRecording()).toBe(false);
    const debug = tracing.tracer.startSpan('dbg', {}, remote({ b3: `${TRACE64}-${SPAN}-d` }));
    const child = tracing.tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, debug));
    child.end();
    debug.end();
    expect(
      sink
        .spans()
        .filter((s) => s.debug)
        .map((s) => s.name),
    ).toEqual(['child', 'dbg']);
  });

  it('decides by the trace id when upstream deferred', () => {
    const sampler = new ProbabilisticSampler(50);
    const { tracing } = setup({ sampler });
    for (const traceId of ['0000000000000001', '4000000000000001']) {
      const span = tracing.tracer.startSpan('x', {}, remote({ 'x-b3-traceid': traceId, 'x-b3-spanid': SPAN }));
      expect(span.isRecording()).toBe(sampler.isSampled(traceId));
    }
  });
});

describe('an unsampled root', () => {
  it("decides from its id's random words as the sampler decides from the id, 64- and 128-bit", () => {
    for (const traceId128Bit of [false, true]) {
      const sampler = new ProbabilisticSampler(50);
      const { tracing, sink } = setup({ sampler, traceId128Bit });
      let recorded = 0;
      // more than one id pool's worth (256), so a refill is crossed
      for (let i = 0; i < 700; i++) {
        const span = tracing.tracer.startSpan('root');
        const { traceId, spanId } = span.spanContext();
        expect(traceId).toMatch(traceId128Bit ? /^[0-9a-f]{32}$/ : /^0{16}[0-9a-f]{16}$/);
        expect(spanId).toBe(traceId.slice(16));
        expect(span.isRecording()).toBe(sampler.isSampled(traceId));
        if (span.isRecording()) recorded++;
        span.end();
      }
      expect(recorded).toBeGreaterThan(250);
      expect(recorded).toBeLessThan(450);
      expect(sink.spans()).toHaveLength(recorded);
    }
  });

  it('makes its context once, when read, and its children carry that trace id', () => {
    const { tracing, sink } = setup({ sampler: NEVER_SAMPLE });
    const roots = Array.from({ length: 300 }, () => tracing.tracer.startSpan('root'));
    const contexts = roots.map((root) => root.spanContext());
    expect(new Set(contexts.map((c) => c.traceId)).size).toBe(300);
    for (const [i, root] of roots.entries()) {
      expect(root.spanContext()).toBe(contexts[i]);
      expect(contexts[i]).toMatchObject({ traceFlags: 0, isRemote: false });
      expect(trace.isSpanContextValid(contexts[i])).toBe(true);
      const child = tracing.tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
      expect(child.isRecording()).toBe(false);
      expect(child.spanContext().traceId).toBe(contexts[i].traceId);
      expect(child.spanContext().spanId).not.toBe(contexts[i].spanId);
    }
    expect(sink.spans()).toEqual([]);
  });

  it('a sampler without word decisions is asked with the id, which its span then carries', () => {
    const asked: string[] = [];
    const { tracing } = setup({ sampler: { isSampled: (traceId) => asked.push(traceId) % 2 === 0 } });
    const spans = Array.from({ length: 4 }, () => tracing.tracer.startSpan('root'));
    expect(spans.map((s) => s.spanContext().traceId)).toEqual(asked);
    expect(spans.map((s) => s.isRecording())).toEqual([false, true, false, true]);
  });
});

describe('ids and parents', () => {
  it('new traces get 64-bit ids by default and 128-bit ids when asked', () => {
    const { tracing, sink } = setup();
    tracing.tracer.startSpan('a').end();
    const { tracing: wide, sink: wideSink } = setup({ traceId128Bit: true });
    wide.tracer.startSpan('b').end();
    expect(sink.spans()[0].traceId).toMatch(/^[0-9a-f]{16}$/);
    expect(wideSink.spans()[0].traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a child has a new span id and its parent as parentId', () => {
    const { tracing, sink } = setup();
    tracing.tracer.startActiveSpan('parent', (parent) => {
      tracing.tracer.startSpan('child').end();
      parent.end();
    });
    const [child, parent] = sink.spans();
    expect(child.parentId).toBe(parent.id);
    expect(child.id).not.toBe(parent.id);
    expect(parent.parentId).toBeUndefined();
  });

  it('a server span joins a B3 caller: same span id, caller parent, shared', () => {
    const { tracing, sink } = setup();
    const ctx = remote({ 'x-b3-traceid': TRACE64, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': PARENT, 'x-b3-sampled': '1' });
    tracing.tracer.startSpan('get', { kind: SpanKind.SERVER }, ctx).end();
    expect(sink.spans()[0]).toMatchObject({ traceId: TRACE64, id: SPAN, parentId: PARENT, kind: 'SERVER', shared: true });
  });

  it('a server span is a child of the caller when joining is off', () => {
    const { tracing, sink } = setup({ joinServerSpans: false });
    tracing.tracer.startSpan('get', { kind: SpanKind.SERVER }, remote({ b3: `${TRACE64}-${SPAN}-1` })).end();
    const [span] = sink.spans();
    expect(span.parentId).toBe(SPAN);
    expect(span.id).not.toBe(SPAN);
    expect(span.shared).toBeUndefined();
  });

  it('a non-server span under a remote parent is a child', () => {
    const { tracing, sink } = setup();
    tracing.tracer.startSpan('consume', { kind: SpanKind.CONSUMER }, remote({ b3: `${TRACE64}-${SPAN}-1` })).end();
    expect(sink.spans()[0]).toMatchObject({ traceId: TRACE64, parentId: SPAN });
  });

  it('options.root ignores the active span', () => {
    const { tracing, sink } = setup();
    tracing.tracer.startActiveSpan('outer', (outer) => {
      tracing.tracer.startSpan('fresh', { root: true }).end();
      outer.end();
    });
    const [fresh, outer] = sink.spans();
    expect(fresh.traceId).not.toBe(outer.traceId);
    expect(fresh.parentId).toBeUndefined();
  });
});

describe('OTel API', () => {
  it('startActiveSpan makes the span active for the callback and returns its result', async () => {
    const { tracing } = setup();
    const result = await tracing.tracer.startActiveSpan('op', { kind: SpanKind.INTERNAL }, async (span) => {
      await new Promise((r) => setTimeout(r, 1));
      expect(trace.getActiveSpan()).toBe(span);
      span.end();
      return 42;
    });
    expect(result).toBe(42);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('end() is idempotent and changes after end are ignored', () => {
    const { tracing, sink } = setup();
    const span = tracing.tracer.startSpan('op');
    span.end();
    span.setAttribute('late', 'x').updateName('renamed').end();
    expect(sink.spans()).toHaveLength(1);
    expect(sink.spans()[0]).toMatchObject({ name: 'op' });
    expect(sink.spans()[0].tags).toBeUndefined();
  });

  it('bounds attributes and events per span', () => {
    const { tracing, sink } = setup();
    const span = tracing.tracer.startSpan('op') as RecordingSpan;
    for (let i = 0; i < 200; i++) span.setAttribute(`k${i}`, i).addEvent(`e${i}`);
    span.end();
    expect(Object.keys(sink.spans()[0].tags ?? {})).toHaveLength(128);
    expect(sink.spans()[0].annotations).toHaveLength(128);
    expect(span.droppedCount).toBe(144);
  });

  it('never throws into the caller on odd input', () => {
    const { tracing } = setup();
    const span = tracing.tracer.startSpan('op');
    expect(() => {
      span.setAttribute(undefined as unknown as string, 1);
      span.setAttributes(null as unknown as Record<string, string>);
      span.addEvent(undefined as unknown as string);
      span.setStatus(undefined as unknown as { code: SpanStatusCode });
      span.recordException(undefined as unknown as Error);
      span.end(Number.NaN);
    }).not.toThrow();
    expect(() => tracing.tracer.startSpan('x', undefined, undefined)).not.toThrow();
  });

  it('spans ended after shutdown are not reported', async () => {
    const { tracing, sink } = setup();
    const span = tracing.tracer.startSpan('late');
    await tracing.shutdown();
    span.end();
    expect(sink.spans()).toEqual([]);
    expect(context.active()).toBe(ROOT_CONTEXT);
  });
});

describe("an instrumentation's own attribute object (startOwnSpan)", () => {
  const provider = (maxAttributes: number) => {
    const sink = new InMemorySpanSink();
    const tracer = new PintraceTracerProvider({
      localEndpoint: { serviceName: 'own' },
      sampler: ALWAYS_SAMPLE,
      sink,
      limits: { maxAttributes },
      logger: silentLogger,
    }).getTracer('t');
    return { tracer, sink };
  };

  it('a sampled span keeps the literal it was given, and counts its keys against the limit', () => {
    const { tracer, sink } = provider(4);
    const attributes = { 'http.method': 'GET', 'http.path': '/a' };
    const span = startOwnSpan(tracer, 'get', { kind: SpanKind.SERVER, attributes }, ROOT_CONTEXT) as RecordingSpan;
    expect(span.attributes).toBe(attributes);
    expect(span.reserveAttributes(3)).toBe(false); // 2 + 3 > 4: nothing reserved
    expect(span.reserveAttributes(2)).toBe(true);
    span.setAttribute('late', 1); // the limit is reached: dropped
    span.end();
    expect(sink.spans()[0].tags).toEqual({ 'http.method': 'GET', 'http.path': '/a' });
    expect(span.droppedCount).toBe(1);
    expect(span.reserveAttributes(0)).toBe(false); // ended
  });

  it('a literal over the limit is copied as startSpan does: the first keys kept, the rest dropped and counted', () => {
    const { tracer, sink } = provider(1);
    const attributes = { a: 'x', b: 'y' };
    const span = startOwnSpan(tracer, 'op', { attributes }, ROOT_CONTEXT) as RecordingSpan;
    expect(span.attributes).not.toBe(attributes);
    span.end();
    expect(sink.spans()[0].tags).toEqual({ a: 'x' });
    expect(span.droppedCount).toBe(1);
    expect(attributes).toEqual({ a: 'x', b: 'y' });
  });

  it('startSpan never takes the caller’s object', () => {
    const { tracer } = provider(128);
    const attributes = { a: 'x' };
    const span = tracer.startSpan('op', { attributes }, ROOT_CONTEXT) as RecordingSpan;
    span.setAttribute('b', 'y');
    expect(attributes).toEqual({ a: 'x' });
  });
});
