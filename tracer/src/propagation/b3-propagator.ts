import { trace, TraceFlags, type Context, type TextMapGetter, type TextMapPropagator, type TextMapSetter } from '@opentelemetry/api';
import type { SamplingState } from '@pintrace/sampler';
import { toZipkinTraceId } from '../ids.js';
import { RecordingSpan } from '../trace/recording-span.js';
import { B3_HEADERS, formatB3Multi, formatB3Single, parseB3Multi, parseB3Single, type B3Context, type B3Extracted } from './b3-codec.js';
import { getB3Details, SAMPLING_ONLY_KEY, withRemoteParent } from './remote-context.js';

/** Which B3 form `inject` writes. Extraction always reads both (single wins). */
export type B3InjectEncoding = 'multi' | 'single' | 'single-and-multi';

export interface B3PropagatorOptions {
  /** Default `multi` (X-B3-* headers), which every Zipkin-era peer reads. */
  injectEncoding?: B3InjectEncoding;
}

const ALL_FIELDS = [B3_HEADERS.single, B3_HEADERS.traceId, B3_HEADERS.spanId, B3_HEADERS.parentSpanId, B3_HEADERS.sampled, B3_HEADERS.flags];

/**
 * B3 as an OTel TextMapPropagator. Extract reads the `b3` header first and falls back to the
 * X-B3-* headers when it is absent or malformed; malformed input is ignored (the context is
 * returned unchanged). The remote SpanContext holds the trace id in OTel's 32-char form; the B3
 * sampling state and parent id ride beside it (remote-context.ts). Never throws.
 */
export class B3Propagator implements TextMapPropagator {
  private readonly encoding: B3InjectEncoding;

  constructor(options: B3PropagatorOptions = {}) {
    this.encoding = options.injectEncoding ?? 'multi';
  }

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    try {
      const b3 = b3ContextOf(context);
      if (!b3) return;
      if (this.encoding !== 'multi') setter.set(carrier, B3_HEADERS.single, formatB3Single(b3));
      if (this.encoding !== 'single') {
        const headers = formatB3Multi(b3);
        for (const name in headers) setter.set(carrier, name, headers[name]);
      }
    } catch {
      // a carrier that refuses headers (e.g. already sent) leaves the request untraced downstream
    }
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    try {
      const extracted = extractB3(carrier, getter);
      if (!extracted) return context;
      if (extracted.kind === 'sampling') return context.setValue(SAMPLING_ONLY_KEY, extracted.sampling);
      return withRemoteParent(context, extracted.context);
    } catch {
      return context;
    }
  }

  fields(): string[] {
    if (this.encoding === 'single') return [B3_HEADERS.single];
    if (this.encoding === 'multi') return ALL_FIELDS.slice(1);
    return ALL_FIELDS.slice();
  }
}

function firstValue(getter: TextMapGetter, carrier: unknown, name: string): string | undefined {
  const value = getter.get(carrier, name);
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function extractB3(carrier: unknown, getter: TextMapGetter): B3Extracted | undefined {
  const single = firstValue(getter, carrier, B3_HEADERS.single);
  if (single !== undefined) {
    const parsed = parseB3Single(single);
    if (parsed) return parsed;
  }
  return parseB3Multi({
    traceId: firstValue(getter, carrier, B3_HEADERS.traceId),
    spanId: firstValue(getter, carrier, B3_HEADERS.spanId),
    parentSpanId: firstValue(getter, carrier, B3_HEADERS.parentSpanId),
    sampled: firstValue(getter, carrier, B3_HEADERS.sampled),
    flags: firstValue(getter, carrier, B3_HEADERS.flags),
  });
}

/** The B3 view of the span in `context`, or undefined when there is none. */
function b3ContextOf(context: Context): B3Context | undefined {
  const span = trace.getSpan(context);
  if (!span) return undefined;
  const spanContext = span.spanContext();
  if (!trace.isSpanContextValid(spanContext)) return undefined;
  const traceId = toZipkinTraceId(spanContext.traceId);
  if (span instanceof RecordingSpan) {
    const sampling: SamplingState = span.debug ? 'debug' : 'accept';
    return { traceId, spanId: spanContext.spanId, parentSpanId: span.parentSpanId, sampling };
  }
  const details = spanContext.isRemote ? getB3Details(spanContext) : undefined;
  if (details) {
    return { traceId, spanId: spanContext.spanId, parentSpanId: details.parentSpanId, sampling: details.sampling };
  }
  const sampled = (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
  return { traceId, spanId: spanContext.spanId, sampling: sampled ? 'accept' : 'deny' };
}
