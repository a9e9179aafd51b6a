import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  HttpPropagator,
  InMemorySpanSink,
  parsePropagators,
  parseResourceAttributes,
  silentLogger,
  startTracing,
  TracingConfigError,
  tracingOptionsFromEnv,
  type TracingOptions,
} from '@pintrace/tracer';
import { encodeSpanJsonLine } from '../src/zipkin/span-json.js';

const base = { OTEL_SERVICE_NAME: 'checkout', PINTRACE_SPANS_DIR: '/var/log/pintrace' };

function options(env: Record<string, string>): TracingOptions {
  const config = tracingOptionsFromEnv({ ...base, ...env });
  expect(config.disabled).toBe(false);
  return config.options!;
}

describe('environment → startTracing options', () => {
  it('the minimum: service name and span directory; OTel default sampler parentbased_always_on = 100 %, parent-based', () => {
    expect(tracingOptionsFromEnv(base)).toEqual({
      disabled: false,
      warnings: [],
      options: { serviceName: 'checkout', spansDir: '/var/log/pintrace', sampleRate: 100, parentBased: true, dev: false },
    });
  });

  it('OTEL_SDK_DISABLED=true (any case) starts nothing, even with nothing else set; false and empty start', () => {
    expect(tracingOptionsFromEnv({ OTEL_SDK_DISABLED: 'TRUE' })).toEqual({ disabled: true, options: undefined, warnings: [] });
    expect(tracingOptionsFromEnv({ ...base, OTEL_SDK_DISABLED: 'false' }).disabled).toBe(false);
    expect(tracingOptionsFromEnv({ ...base, OTEL_SDK_DISABLED: '' }).disabled).toBe(false);
    expect(() => tracingOptionsFromEnv({ ...base, OTEL_SDK_DISABLED: '1' })).toThrow(/OTEL_SDK_DISABLED: set it to true or false/);
  });

  it('service name: OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES, which is the fallback', () => {
    expect(options({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=cart' }).serviceName).toBe('checkout');
    const fromResource = tracingOptionsFromEnv({ PINTRACE_SPANS_DIR: '/d', OTEL_RESOURCE_ATTRIBUTES: 'service.name=cart' }).options!;
    expect(fromResource.serviceName).toBe('cart');
    expect(fromResource.resourceAttributes).toEqual({ 'service.name': 'cart' });
    // the resource's service.name is the effective name, as the OTel SDK merges OTEL_SERVICE_NAME into it
    expect(options({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=cart,team=pay' }).resourceAttributes).toEqual({ 'service.name': 'checkout', team: 'pay' });
    expect(options({}).resourceAttributes).toBeUndefined();
  });

  it('a missing or unusable service name or span directory is an error naming the variable', () => {
    expect(() => tracingOptionsFromEnv({ PINTRACE_SPANS_DIR: '/d' })).toThrow(TracingConfigError);
    expect(() => tracingOptionsFromEnv({ PINTRACE_SPANS_DIR: '/d' })).toThrow(/OTEL_SERVICE_NAME: set it/);
    expect(() => tracingOptionsFromEnv({ OTEL_SERVICE_NAME: 'checkout' })).toThrow(/PINTRACE_SPANS_DIR: set it/);
    expect(() => options({ OTEL_SERVICE_NAME: 'check out/v2' })).toThrow(/OTEL_SERVICE_NAME: use letters/);
    expect(() => tracingOptionsFromEnv({ PINTRACE_SPANS_DIR: '/d', OTEL_RESOURCE_ATTRIBUTES: 'service.name=a:b' })).toThrow(
      /service.name in OTEL_RESOURCE_ATTRIBUTES: use letters/,
    );
  });

  it('OTEL_RESOURCE_ATTRIBUTES: comma-separated key=value, trimmed, percent-decoded, first = splits; errors name the variable', () => {
    expect(parseResourceAttributes(' deployment.environment = prod , team=pay%2Cments, note=a=b,, ')).toEqual({
      'deployment.environment': 'prod',
      team: 'pay,ments',
      note: 'a=b',
    });
    expect(parseResourceAttributes(undefined)).toEqual({});
    expect(() => parseResourceAttributes('novalue')).toThrow(/OTEL_RESOURCE_ATTRIBUTES: write key=value pairs/);
    expect(() => parseResourceAttributes('=x')).toThrow(/has no key/);
    expect(() => parseResourceAttributes('k=%E0%A4%A')).toThrow(/OTEL_RESOURCE_ATTRIBUTES: .* is not valid percent-encoding/);
    expect(options({ OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=shop,service.version=1.2' }).resourceAttributes).toEqual({
      'service.namespace': 'shop',
      'service.version': '1.2',
      'service.name': 'checkout',
    });
  });

  it.each([
    ['always_on', undefined, 100, false],
    ['always_off', undefined, 0, false],
    ['traceidratio', '0.25', 25, false],
    ['traceidratio', undefined, 100, false],
    ['parentbased_always_on', undefined, 100, true],
    ['parentbased_always_off', '0.5', 0, true],
    ['parentbased_traceidratio', '0.003', 0.3, true],
    ['PARENTBASED_TRACEIDRATIO', '0', 0, true],
    ['parentbased_traceidratio', '1', 100, true],
  ] as const)('OTEL_TRACES_SAMPLER=%s ARG=%s → %s %% of roots, parentBased %s (ratio × 100)', (sampler, arg, percent, parentBased) => {
    const o = options(arg === undefined ? { OTEL_TRACES_SAMPLER: sampler } : { OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: arg });
    expect(o.sampleRate).toBeCloseTo(percent, 10);
    expect(o.parentBased).toBe(parentBased);
  });

  it('an unknown sampler or a ratio outside 0..1 is an error that names the scale', () => {
    expect(() => options({ OTEL_TRACES_SAMPLER: 'jaeger_remote' })).toThrow(/OTEL_TRACES_SAMPLER: use one of always_on, always_off, traceidratio/);
    expect(() => options({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '5' })).toThrow(
      /OTEL_TRACES_SAMPLER_ARG: a ratio from 0 to 1 \(OTel's scale: 0.003 samples 0.3 %/,
    );
    expect(() => options({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
  });

  it('OTEL_PROPAGATORS: the listed formats are read and written, the others neither; unset keeps the default', () => {
    expect(parsePropagators(undefined)).toEqual({});
    expect(parsePropagators('tracecontext')).toEqual({ b3Inject: 'none', b3Extract: false, w3cInject: true, w3cExtract: true });
    expect(parsePropagators('b3')).toEqual({ b3Inject: 'single', b3Extract: true, w3cInject: false, w3cExtract: false });
    expect(parsePropagators('b3multi , tracecontext')).toEqual({ b3Inject: 'multi', b3Extract: true, w3cInject: true, w3cExtract: true });
    expect(parsePropagators('b3,b3multi')).toEqual({ b3Inject: 'single-and-multi', b3Extract: true, w3cInject: false, w3cExtract: false });
    expect(parsePropagators('none')).toEqual({ b3Inject: 'none', b3Extract: false, w3cInject: false, w3cExtract: false });
  });

  it('OTEL_PROPAGATORS: baggage is warned about and ignored; unsupported ones and none with others are errors', () => {
    const warnings: string[] = [];
    expect(parsePropagators('tracecontext,baggage', warnings)).toEqual({ b3Inject: 'none', b3Extract: false, w3cInject: true, w3cExtract: true });
    expect(warnings).toEqual(['OTEL_PROPAGATORS: baggage is not propagated by @pintrace/tracer; ignored']);
    expect(tracingOptionsFromEnv({ ...base, OTEL_PROPAGATORS: 'baggage,b3' }).warnings).toHaveLength(1);
    expect(() => parsePropagators('xray')).toThrow(/OTEL_PROPAGATORS: use tracecontext, b3, b3multi .* "xray" is not supported/);
    expect(() => parsePropagators('none,b3')).toThrow(/none cannot be combined/);
  });

  it('PINTRACE_DECIDER_FILE and PINTRACE_DEV pass through', () => {
    const o = options({ PINTRACE_DECIDER_FILE: '/etc/decider.json', PINTRACE_DEV: '1' });
    expect(o.deciderFile).toBe('/etc/decider.json');
    expect(o.dev).toBe(true);
  });
});

describe('what the mapped options do', () => {
  function tracingWith(extra: Partial<TracingOptions>) {
    const sink = new InMemorySpanSink();
    const tracing = startTracing({ serviceName: 'svc', sink, registerGlobal: false, logger: silentLogger, ...extra });
    return { tracing, sink };
  }

  /** A context holding a remote parent with the given sampled flag (as a W3C traceparent would). */
  function remoteParent(sampled: boolean) {
    return trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
      isRemote: true,
    });
  }

  it('parent-based (default): a remote parent decides, whatever the rate', async () => {
    const { tracing } = tracingWith({ sampleRate: 0 });
    expect(tracing.tracer.startSpan('a', { kind: SpanKind.SERVER }, remoteParent(true)).isRecording()).toBe(true);
    const on = tracingWith({ sampleRate: 100 });
    expect(on.tracing.tracer.startSpan('a', { kind: SpanKind.SERVER }, remoteParent(false)).isRecording()).toBe(false);
    await Promise.all([tracing.shutdown(), on.tracing.shutdown()]);
  });

  it('not parent-based (always_on / always_off / traceidratio): every span asks the sampler, the parent is ignored', async () => {
    const off = tracingWith({ ...options({ OTEL_TRACES_SAMPLER: 'always_off' }), spansDir: undefined, sink: new InMemorySpanSink() });
    expect(off.tracing.tracer.startSpan('a', { kind: SpanKind.SERVER }, remoteParent(true)).isRecording()).toBe(false);
    const on = tracingWith({ sampleRate: 100, parentBased: false });
    expect(on.tracing.tracer.startSpan('a', { kind: SpanKind.SERVER }, remoteParent(false)).isRecording()).toBe(true);
    await Promise.all([off.tracing.shutdown(), on.tracing.shutdown()]);
  });

  it('traceidratio: children decide like their root (same trace id, same rate), so traces stay whole', async () => {
    const { tracing } = tracingWith({ sampleRate: 50, parentBased: false });
    let recordedRoots = 0;
    for (let i = 0; i < 200; i++) {
      const root = tracing.tracer.startSpan('root');
      const child = tracing.tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
      expect(child.isRecording()).toBe(root.isRecording());
      if (root.isRecording()) recordedRoots++;
    }
    expect(recordedRoots).toBeGreaterThan(50);
    expect(recordedRoots).toBeLessThan(150);
    await tracing.shutdown();
  });

  it("resource attributes are tags on every span, over a span attribute of the same name (the OTel Zipkin exporter's order)", async () => {
    const { tracing, sink } = tracingWith({ resourceAttributes: { 'service.name': 'svc', 'service.namespace': 'shop', team: 'pay' } });
    const span1 = tracing.tracer.startSpan('a', { attributes: { team: 'span-team', k: 'v' } });
    span1.setAttribute('service.namespace', 'late');
    span1.end();
    tracing.tracer.startSpan('b').end();
    const [a, b] = sink.spans();
    expect(a.tags).toEqual({ 'service.name': 'svc', 'service.namespace': 'shop', team: 'pay', k: 'v' });
    expect(b.tags).toEqual({ 'service.name': 'svc', 'service.namespace': 'shop', team: 'pay' });
    expect(a.localEndpoint?.serviceName).toBe('svc');
    await tracing.shutdown();
  });

  it('the file encoder writes resource tags exactly as the Zipkin mapping does', async () => {
    const { tracing } = tracingWith({ resourceAttributes: { 'service.namespace': 'shop' } });
    const sink = new InMemorySpanSink();
    const span = tracing.tracer.startSpan('a', { attributes: { k: 'v' } });
    span.end();
    sink.accept(span as never);
    const line = JSON.parse(encodeSpanJsonLine(span as never)) as { tags: Record<string, string> };
    expect(line.tags).toEqual(sink.spans()[0].tags);
    expect(line.tags).toEqual({ k: 'v', 'service.namespace': 'shop' });
    await tracing.shutdown();
  });

  it('API 1.10 attribute values (maps, bytes) become JSON and base64 tags, not "[object Object]"', async () => {
    const { tracing, sink } = tracingWith({});
    const span = tracing.tracer.startSpan('a');
    span.setAttribute('map', { a: 1, b: [true] } as never);
    span.setAttribute('bytes', new Uint8Array([1, 2, 255]) as never);
    span.end();
    expect(sink.spans()[0].tags).toEqual({ map: '{"a":1,"b":[true]}', bytes: 'AQL/' });
    expect(JSON.parse(encodeSpanJsonLine(span as never)).tags).toEqual({ map: '{"a":1,"b":[true]}', bytes: 'AQL/' });
    await tracing.shutdown();
  });

  it('propagators: a format left out of OTEL_PROPAGATORS is neither read nor written', () => {
    const w3cOnly = new HttpPropagator(parsePropagators('tracecontext'));
    const getter = { keys: (c: Record<string, string>) => Object.keys(c), get: (c: Record<string, string>, k: string) => c[k] };
    const b3Headers = { 'x-b3-traceid': '463ac35c9f6413ad', 'x-b3-spanid': '463ac35c9f6413ad', 'x-b3-sampled': '1' };
    expect(trace.getSpanContext(w3cOnly.extract(ROOT_CONTEXT, b3Headers, getter))).toBeUndefined();
    const traceparent = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    expect(trace.getSpanContext(w3cOnly.extract(ROOT_CONTEXT, traceparent, getter))?.spanId).toBe('b7ad6b7169203331');
    const b3Only = new HttpPropagator(parsePropagators('b3'));
    expect(trace.getSpanContext(b3Only.extract(ROOT_CONTEXT, traceparent, getter))).toBeUndefined();
    const carrier: Record<string, string> = {};
    b3Only.inject(remoteParent(true), carrier, { set: (c: Record<string, string>, k: string, v: string) => (c[k] = v) });
    expect(Object.keys(carrier)).toEqual(['b3']);
    expect(w3cOnly.fields()).toEqual(['traceparent', 'tracestate']);
  });
});
