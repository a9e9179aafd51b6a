import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type TextMapGetter } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import zipkin from 'zipkin';
import { B3Propagator, toZipkinTraceId } from '@pintrace/tracer';
import { memoryTracing } from '../helpers.js';

const TRACE64 = '463ac35c9f6413ad';
const TRACE128 = '463ac35c9f6413ad48485a3953bb6124';
const SPAN = 'a2fb4a1d1a96d312';
const PARENT = '0020000000000001';

const propagator = new B3Propagator();

/** What the propagator extracted, as it would inject it again (multi headers). */
function roundTrip(headers: Record<string, unknown>, getter: TextMapGetter = defaultTextMapGetter): Record<string, string> {
  const ctx = propagator.extract(ROOT_CONTEXT, headers, getter);
  const out: Record<string, string> = {};
  propagator.inject(ctx, out, defaultTextMapSetter);
  return out;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

describe('B3Propagator.extract', () => {
  it('creates a remote span context with the trace id in OTel form', () => {
    const ctx = propagator.extract(ROOT_CONTEXT, { b3: `${TRACE64}-${SPAN}-1` }, defaultTextMapGetter);
    // toMatchObject: the B3 details ride along under a symbol key
    expect(trace.getSpanContext(ctx)).toMatchObject({
      traceId: `0000000000000000${TRACE64}`,
      spanId: SPAN,
      isRemote: true,
      traceFlags: TraceFlags.SAMPLED,
    });
    expect(trace.isSpanContextValid(trace.getSpanContext(ctx)!)).toBe(true);
  });

  it('prefers the single header over the multi headers', () => {
    const out = roundTrip({
      b3: `${TRACE128}-${SPAN}-0`,
      'x-b3-traceid': TRACE64,
      'x-b3-spanid': PARENT,
      'x-b3-sampled': '1',
    });
    expect(out).toEqual({ 'x-b3-traceid': TRACE128, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' });
  });

  it('falls back to the multi headers when the single header is malformed', () => {
    const out = roundTrip({ b3: 'garbage', 'x-b3-traceid': TRACE64, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' });
    expect(out).toEqual({ 'x-b3-traceid': TRACE64, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' });
  });

  it('keeps a deferred decision deferred and the parent id', () => {
    expect(roundTrip({ 'x-b3-traceid': TRACE64, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': PARENT })).toEqual({
      'x-b3-traceid': TRACE64,
      'x-b3-spanid': SPAN,
      'x-b3-parentspanid': PARENT,
    });
  });

  it('keeps debug', () => {
    expect(roundTrip({ b3: `${TRACE64}-${SPAN}-d` })).toEqual({ 'x-b3-traceid': TRACE64, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' });
  });

  it('takes the first value of a repeated header', () => {
    const out = roundTrip({ 'x-b3-traceid': [TRACE64, TRACE128], 'x-b3-spanid': [SPAN], 'x-b3-sampled': ['1', '0'] });
    expect(out).toEqual({ 'x-b3-traceid': TRACE64, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' });
  });

  it('returns the context unchanged on malformed input, and never throws', () => {
    for (const headers of [
      { b3: 'nope' },
      { 'x-b3-traceid': 'nope', 'x-b3-spanid': SPAN },
      { 'x-b3-traceid': TRACE64 },
      { 'x-b3-traceid': TRACE64, 'x-b3-spanid': SPAN, 'x-b3-sampled': 'maybe' },
      {},
    ]) {
      expect(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter)).toBe(ROOT_CONTEXT);
    }
    const throwing: TextMapGetter = {
      get: () => {
        throw new Error('boom');
      },
      keys: () => [],
    };
    expect(propagator.extract(ROOT_CONTEXT, {}, throwing)).toBe(ROOT_CONTEXT);
    expect(propagator.extract(ROOT_CONTEXT, null, defaultTextMapGetter)).toBe(ROOT_CONTEXT);
  });

  it('honours a sampling-only header on the next root span', () => {
    const { tracing, sink } = memoryTracing();
    const denied = propagator.extract(ROOT_CONTEXT, { b3: '0' }, defaultTextMapGetter);
    expect(tracing.tracer.startSpan('x', {}, denied).isRecording()).toBe(false);
    const debug = propagator.extract(ROOT_CONTEXT, { 'x-b3-flags': '1' }, defaultTextMapGetter);
    tracing.tracer.startSpan('y', {}, debug).end();
    expect(sink.spans()[0]).toMatchObject({ name: 'y', debug: true });
    void tracing.shutdown();
  });
});

describe('B3Propagator.inject', () => {
  const { tracing } = memoryTracing();
  afterAll(() => tracing.shutdown());

  it('writes multi headers by default, with the parent id of a recording span', () => {
    const parent = tracing.tracer.startSpan('parent');
    const child = tracing.tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, parent));
    const out: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, child), out, defaultTextMapSetter);
    expect(out).toEqual({
      'x-b3-traceid': toZipkinTraceId(child.spanContext().traceId),
      'x-b3-spanid': child.spanContext().spanId,
      'x-b3-parentspanid': parent.spanContext().spanId,
      'x-b3-sampled': '1',
    });
    expect(out['x-b3-traceid']).toHaveLength(16);
  });

  it('writes the single header, or both, when configured', () => {
    const span = tracing.tracer.startSpan('s');
    const ctx = trace.setSpan(ROOT_CONTEXT, span);
    const single: Record<string, string> = {};
    new B3Propagator({ injectEncoding: 'single' }).inject(ctx, single, defaultTextMapSetter);
    expect(Object.keys(single)).toEqual(['b3']);
    expect(single.b3).toBe(`${toZipkinTraceId(span.spanContext().traceId)}-${span.spanContext().spanId}-1`);
    const both: Record<string, string> = {};
    new B3Propagator({ injectEncoding: 'single-and-multi' }).inject(ctx, both, defaultTextMapSetter);
    expect(Object.keys(both).sort()).toEqual(['b3', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']);
  });

  it('writes deny for an unsampled span and nothing without a span', () => {
    const { tracing: none, sink } = memoryTracing({ sampler: { isSampled: () => false } });
    const span = none.tracer.startSpan('s', { kind: SpanKind.CLIENT });
    const out: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), out, defaultTextMapSetter);
    expect(out['x-b3-sampled']).toBe('0');
    expect(out['x-b3-spanid']).toBe(span.spanContext().spanId);
    const empty: Record<string, string> = {};
    propagator.inject(ROOT_CONTEXT, empty, defaultTextMapSetter);
    expect(empty).toEqual({});
    span.end();
    expect(sink.spans()).toEqual([]);
    void none.shutdown();
  });

  it('does not throw when the carrier refuses headers', () => {
    const span = tracing.tracer.startSpan('s');
    expect(() =>
      propagator.inject(
        trace.setSpan(ROOT_CONTEXT, span),
        {},
        {
          set: () => {
            throw new Error('headers already sent');
          },
        },
      ),
    ).not.toThrow();
  });
});

describe('B3 interop with zipkin-js 0.22 (oracle)', () => {
  const { TraceId, option, Tracer, ExplicitContext } = zipkin;
  const oracle = new Tracer({ ctxImpl: new ExplicitContext(), recorder: { record: () => undefined }, localServiceName: 'oracle' });
  // zipkin-js's HTTP server instrumentation is the oracle for reading multi headers.
  const server = new zipkin.Instrumentation.HttpServer({ tracer: oracle, port: 80 });

  const cases = [
    { traceId: TRACE64, parentId: undefined, sampled: true, debug: false },
    { traceId: TRACE128, parentId: PARENT, sampled: false, debug: false },
    { traceId: TRACE64, parentId: PARENT, sampled: undefined, debug: false },
    { traceId: TRACE128, parentId: undefined, sampled: undefined, debug: true },
  ];

  it.each(cases)('reads what zipkin-js writes: %j', (c) => {
    const id = new TraceId({
      traceId: c.traceId,
      spanId: SPAN,
      parentId: c.parentId ? new option.Some(c.parentId) : option.None,
      sampled: c.sampled === undefined ? option.None : new option.Some(c.sampled),
      debug: c.debug,
    });
    const headers = lowerCaseKeys(zipkin.Request.addZipkinHeaders({}, id).headers as Record<string, string>);
    const out = roundTrip(headers);
    expect(out['x-b3-traceid']).toBe(c.traceId);
    expect(out['x-b3-spanid']).toBe(SPAN);
    expect(out['x-b3-parentspanid']).toBe(c.parentId);
    if (c.debug) expect(out['x-b3-flags']).toBe('1');
    else expect(out['x-b3-sampled']).toBe(c.sampled === undefined ? undefined : c.sampled ? '1' : '0');
  });

  it.each(cases)('writes what zipkin-js reads: %j', (c) => {
    const b3 = `${c.traceId}-${SPAN}${c.debug ? '-d' : c.sampled === undefined ? '' : c.sampled ? '-1' : '-0'}${
      c.parentId && (c.debug || c.sampled !== undefined) ? `-${c.parentId}` : ''
    }`;
    const out = roundTrip({ b3 });
    const readHeader = (name: string) => {
      const value = out[name.toLowerCase()];
      return value === undefined ? option.None : new option.Some(value);
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const read = (server as any)._createIdFromHeaders(readHeader).getOrElse();
    expect(read.traceId).toBe(c.traceId);
    expect(read.spanId).toBe(SPAN);
    expect(read.parentSpanId.getOrElse(undefined)).toBe(c.debug || c.sampled !== undefined ? c.parentId : undefined);
    expect(read.isDebug()).toBe(c.debug);
    // on a deferred context zipkin-js's join() makes its own decision, as a deferring peer should
    if (!c.debug && c.sampled !== undefined) expect(read.sampled.getOrElse(undefined)).toBe(c.sampled);
  });
});
