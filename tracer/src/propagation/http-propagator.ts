import { ROOT_CONTEXT, trace, type Context, type SpanContext, type TextMapGetter, type TextMapPropagator, type TextMapSetter } from '@opentelemetry/api';
import { B3Propagator, type B3InjectEncoding } from './b3-propagator.js';
import { TraceContextPropagator } from './trace-context-propagator.js';
import { W3C_HEADERS } from './w3c-codec.js';

export interface HttpPropagatorOptions {
  /** B3 form written on outgoing requests, or `none`. Default `multi`. */
  b3Inject?: B3InjectEncoding | 'none';
  /** Write W3C `traceparent` (+ `tracestate`) on outgoing requests. Default true. */
  w3cInject?: boolean;
  /** Read B3 (`b3`, `X-B3-*`) from incoming requests. Default true. */
  b3Extract?: boolean;
  /** Read W3C `traceparent` (+ `tracestate`) from incoming requests. Default true. */
  w3cExtract?: boolean;
}

/**
 * The propagator the tracer uses: reads B3 and W3C Trace Context, writes what is configured
 * (either format can be left out of reading too, as `OTEL_PROPAGATORS` asks).
 *
 * Extract precedence: a valid B3 context (`b3` single header first, then `X-B3-*`) wins, because
 * it carries what W3C cannot (the caller's parent id for joined server spans, debug, defer);
 * otherwise a valid `traceparent` (with its `tracestate`); otherwise a B3 sampling-only decision
 * (`b3: 0|1|d`) for the next root. Malformed headers of either kind are ignored. When both are
 * present and valid but disagree, B3 is used and traceparent is ignored.
 */
export class HttpPropagator implements TextMapPropagator {
  private readonly b3: B3Propagator;
  private readonly w3c = new TraceContextPropagator();
  private readonly injectB3: boolean;
  private readonly injectW3c: boolean;
  private readonly extractB3: boolean;
  private readonly extractW3c: boolean;

  constructor(options: HttpPropagatorOptions = {}) {
    const b3Inject = options.b3Inject ?? 'multi';
    this.injectB3 = b3Inject !== 'none';
    this.b3 = new B3Propagator({ injectEncoding: b3Inject === 'none' ? 'multi' : b3Inject });
    this.injectW3c = options.w3cInject ?? true;
    this.extractB3 = options.b3Extract ?? true;
    this.extractW3c = options.w3cExtract ?? true;
  }

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    if (this.injectB3) this.b3.inject(context, carrier, setter);
    if (this.injectW3c) this.w3c.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const fromB3 = this.extractB3 ? this.b3.extract(context, carrier, getter) : context;
    const b3 = fromB3 !== context ? trace.getSpanContext(fromB3) : undefined;
    if (b3 !== undefined && b3 !== trace.getSpanContext(context)) {
      if (this.extractW3c && getter.get(carrier, W3C_HEADERS.tracestate) !== undefined) this.keepTraceState(b3, carrier, getter);
      return fromB3;
    }
    return this.extractW3c ? this.w3c.extract(fromB3, carrier, getter) : fromB3;
  }

  /**
   * B3 carries no trace state, so a caller that sent both keeps its `tracestate` (the sampling
   * threshold `ot=th` above all, which downstream scaling needs) on the B3 context, when its
   * `traceparent` is of the same trace.
   */
  private keepTraceState(b3: SpanContext, carrier: unknown, getter: TextMapGetter): void {
    const w3c = trace.getSpanContext(this.w3c.extract(ROOT_CONTEXT, carrier, getter));
    if (w3c?.traceState !== undefined && w3c.traceId === b3.traceId) b3.traceState = w3c.traceState;
  }

  fields(): string[] {
    const fields: string[] = [];
    if (this.injectB3) fields.push(...this.b3.fields());
    if (this.injectW3c) fields.push(...this.w3c.fields());
    return fields;
  }
}
