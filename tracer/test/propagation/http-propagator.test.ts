import { ROOT_CONTEXT, trace, SpanKind, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { HttpPropagator, formatTraceParent, parseTraceParent } from '@pintrace/tracer';
import { SAMPLING_THRESHOLD_TAG } from '@pintrace/model';
import { memoryTracing } from '../helpers.js';

type Headers = Record<string, string>;
const getter: TextMapGetter<Headers> = { get: (c, k) => c[k], keys: (c) => Object.keys(c) };
const setter: TextMapSetter<Headers> = { set: (c, k, v) => (c[k] = v) };

const T = '80f198ee56343ba864fe8b2a57d3eff7';
const S = 'e457b5a2e4d86bd1';
const S2 = '05e3ac9a4f6e3b90';

describe('traceparent codec', () => {
  it('parses and formats version 00', () => {
    expect(parseTraceParent(`00-${T}-${S}-01`)).toEqual({ traceId: T, parentId: S, flags: 1 });
    expect(formatTraceParent(T, S, false)).toBe(`00-${T}-${S}-00`);
    expect(parseTraceParent(`00-${T}-${S}-01-x`)).toBeUndefined();
    expect(parseTraceParent(`cc-${T}-${S}-01-x`)).toEqual({ traceId: T, parentId: S, flags: 1 });
  });
});

describe('HttpPropagator', () => {
  const propagator = new HttpPropagator();

  it('B3 wins over traceparent when both are valid', () => {
    const ctx = propagator.extract(ROOT_CONTEXT, { b3: `${T}-${S}-1`, traceparent: `00-${T}-${S2}-00` }, getter);
    expect(trace.getSpanContext(ctx)?.spanId).toBe(S);
  });

  it('B3 wins but keeps the tracestate of a traceparent of the same trace (the sampling threshold crosses the hop)', () => {
    const same = trace.getSpanContext(
      propagator.extract(ROOT_CONTEXT, { b3: `${T}-${S}-1`, traceparent: `00-${T}-${S}-01`, tracestate: 'ot=th:fd70a4' }, getter),
    );
    expect(same).toMatchObject({ traceId: T, spanId: S });
    expect(same?.traceState?.get('ot')).toBe('th:fd70a4');
    // the server span joined through B3 records the caller's threshold, as a W3C child would
    const { tracing, sink } = memoryTracing();
    const joined = propagator.extract(ROOT_CONTEXT, { b3: `${T}-${S}-1`, traceparent: `00-${T}-${S}-01`, tracestate: 'ot=th:fd70a4' }, getter);
    tracing.tracer.startSpan('get', { kind: SpanKind.SERVER }, joined).end();
    expect(sink.spans()[0]?.tags?.[SAMPLING_THRESHOLD_TAG]).toBe('fd70a4');
    const other = `${T.slice(0, 31)}0`;
    const mismatch = trace.getSpanContext(
      propagator.extract(ROOT_CONTEXT, { b3: `${T}-${S}-1`, traceparent: `00-${other}-${S}-01`, tracestate: 'ot=th:fd70a4' }, getter),
    );
    expect(mismatch?.traceState).toBeUndefined();
  });

  it('falls back to traceparent when B3 is absent or malformed, with tracestate', () => {
    for (const b3 of [undefined, 'garbage']) {
      const carrier: Headers = { traceparent: `00-${T}-${S2}-01`, tracestate: 'rojo=1' };
      if (b3) carrier.b3 = b3;
      const sc = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, carrier, getter));
      expect(sc).toMatchObject({ traceId: T, spanId: S2, traceFlags: 1, isRemote: true });
      expect(sc?.traceState?.get('rojo')).toBe('1');
    }
  });

  it('ignores malformed headers of both kinds', () => {
    const ctx = propagator.extract(ROOT_CONTEXT, { b3: 'x', traceparent: 'y', 'x-b3-traceid': 'z' }, getter);
    expect(trace.getSpanContext(ctx)).toBeUndefined();
  });

  it('injects B3 multi and traceparent by default; each is configurable', () => {
    const { tracing } = memoryTracing();
    const span = tracing.tracer.startSpan('x');
    const ctx = trace.setSpan(ROOT_CONTEXT, span);
    const both: Headers = {};
    propagator.inject(ctx, both, setter);
    const { traceId, spanId } = span.spanContext();
    expect(both.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    expect(both['x-b3-spanid']).toBe(spanId);
    expect(both['x-b3-traceid']).toHaveLength(16); // 64-bit id, not padded on B3
    const w3cOnly: Headers = {};
    new HttpPropagator({ b3Inject: 'none' }).inject(ctx, w3cOnly, setter);
    expect(Object.keys(w3cOnly)).toEqual(['traceparent']);
    const b3Only: Headers = {};
    new HttpPropagator({ b3Inject: 'single', w3cInject: false }).inject(ctx, b3Only, setter);
    expect(Object.keys(b3Only)).toEqual(['b3']);
  });

  it('a W3C parent: the server span is a child (not joined), honours the flags and passes tracestate on', () => {
    const { tracing, sink } = memoryTracing();
    const sampled = propagator.extract(ROOT_CONTEXT, { traceparent: `00-${T}-${S2}-01`, tracestate: 'rojo=1' }, getter);
    const server = tracing.tracer.startSpan('get', { kind: SpanKind.SERVER }, sampled);
    const out: Headers = {};
    propagator.inject(trace.setSpan(sampled, server), out, setter);
    expect(out.tracestate).toBe('rojo=1');
    server.end();
    expect(sink.spans()[0]).toMatchObject({ traceId: T, parentId: S2, kind: 'SERVER' });
    expect(sink.spans()[0].id).not.toBe(S2);
    const denied = propagator.extract(ROOT_CONTEXT, { traceparent: `00-${T}-${S2}-00` }, getter);
    tracing.tracer.startSpan('get', { kind: SpanKind.SERVER }, denied).end();
    expect(sink.spans()).toHaveLength(1);
  });
});
