import {
  createTraceState,
  trace,
  TraceFlags,
  type Context,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { RecordingSpan } from '../trace/recording-span.js';
import { formatTraceParent, parseTraceParent, W3C_HEADERS } from './w3c-codec.js';

const FIELDS = [W3C_HEADERS.traceparent, W3C_HEADERS.tracestate];

/**
 * W3C Trace Context (`traceparent` + `tracestate`) as an OTel TextMapPropagator. Extract gives a
 * remote SpanContext with the caller's trace id, span id, sampled flag and tracestate; malformed
 * input leaves the context unchanged. Inject writes `traceparent` (a 64-bit trace id is
 * left-padded to the 32 characters W3C requires) and the span's tracestate when it has one.
 * W3C carries neither a parent span id nor debug nor "defer": flags 01 is accept, 00 is deny.
 * Never throws.
 */
export class TraceContextPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    try {
      const span = trace.getSpan(context);
      if (!span) return;
      const spanContext = span.spanContext();
      if (!trace.isSpanContextValid(spanContext)) return;
      const sampled = span instanceof RecordingSpan || (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
      setter.set(carrier, W3C_HEADERS.traceparent, formatTraceParent(spanContext.traceId, spanContext.spanId, sampled));
      const state = spanContext.traceState?.serialize();
      if (state) setter.set(carrier, W3C_HEADERS.tracestate, state);
    } catch {
      // a carrier that refuses headers leaves the request untraced downstream
    }
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    try {
      const raw = getter.get(carrier, W3C_HEADERS.traceparent);
      const value = Array.isArray(raw) ? raw[0] : raw;
      if (typeof value !== 'string') return context;
      const parent = parseTraceParent(value);
      if (!parent) return context;
      const spanContext: SpanContext = {
        traceId: parent.traceId,
        spanId: parent.parentId,
        isRemote: true,
        traceFlags: parent.flags & TraceFlags.SAMPLED,
      };
      const state = getter.get(carrier, W3C_HEADERS.tracestate);
      const stateText = Array.isArray(state) ? state.join(',') : state;
      if (typeof stateText === 'string' && stateText.length > 0) spanContext.traceState = createTraceState(stateText);
      return trace.setSpanContext(context, spanContext);
    } catch {
      return context;
    }
  }

  fields(): string[] {
    return FIELDS.slice();
  }
}
