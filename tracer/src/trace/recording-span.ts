import {
  SpanStatusCode,
  TraceFlags,
  type Attributes,
  type AttributeValue,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  type TimeInput,
  type TraceState,
} from '@opentelemetry/api';
import { SAMPLING_THRESHOLD_TAG, type Endpoint } from '@pintrace/model';
import { toEpochMicros } from '../clock.js';
import type { FinishedSpan, SpanEvent } from './finished-span.js';
import type { TracerState } from './tracer-state.js';

const NO_EVENTS: readonly SpanEvent[] = Object.freeze([]);
const UNSET_STATUS: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });

export interface RecordingSpanInit {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: SpanKind;
  startMicros: number;
  debug: boolean;
  shared: boolean;
  attributes: Attributes | undefined;
  /**
   * The span takes `attributes` as its own object instead of copying it (our instrumentations'
   * fresh literals): copying went key by key through a megamorphic store, a sizeable part of a
   * sampled server span. Only when they fit the attribute limit.
   */
  ownsAttributes?: boolean;
  /** W3C tracestate inherited from the parent. */
  traceState?: TraceState;
  /** OTel `th` of the rate that admitted the trace, when known. */
  sampleThreshold?: string;
  /** Hex bytes of tracer-made ids (FinishedSpan.traceIdHex etc.). */
  traceIdHex?: Buffer;
  traceIdHexAt?: number;
  traceIdHexLength?: number;
  spanIdHex?: Buffer;
  spanIdHexAt?: number;
}

/**
 * A sampled span. Records into plain fields; `end()` hands it to the sink as a
 * {@link FinishedSpan} (itself) without converting or encoding anything. Only sampled spans are
 * instances of this class; unsampled ones are bare OTel non-recording spans.
 */
export class RecordingSpan implements Span, FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly kind: SpanKind;
  readonly startMicros: number;
  readonly debug: boolean;
  readonly shared: boolean;
  /** A plain object (fast properties); the key `__proto__` is refused. */
  readonly attributes: Attributes;
  events: readonly SpanEvent[] = NO_EVENTS;
  readonly localEndpoint: Endpoint;
  name: string;
  status: SpanStatus = UNSET_STATUS;
  durationMicros = 0;
  /** Attributes and events dropped by the span limits. */
  droppedCount = 0;
  readonly traceIdHex: Buffer | undefined;
  readonly traceIdHexAt: number;
  readonly traceIdHexLength: number;
  readonly spanIdHex: Buffer | undefined;
  readonly spanIdHexAt: number;
  /** OTel `th` of the rate that admitted the trace (inherited by local children). */
  readonly sampleThreshold: string | undefined;

  /** Built on first use: spans that are only ended never need it. */
  private context: SpanContext | undefined;
  private readonly traceState: TraceState | undefined;
  private readonly state: TracerState;
  private attributeCount = 0;
  private ended = false;

  constructor(state: TracerState, init: RecordingSpanInit) {
    this.state = state;
    this.traceId = init.traceId;
    this.spanId = init.spanId;
    this.parentSpanId = init.parentSpanId;
    this.name = init.name;
    this.kind = init.kind;
    this.startMicros = init.startMicros;
    this.debug = init.debug;
    this.shared = init.shared;
    this.localEndpoint = state.localEndpoint;
    this.traceState = init.traceState;
    this.traceIdHex = init.traceIdHex;
    this.traceIdHexAt = init.traceIdHexAt ?? 0;
    this.traceIdHexLength = init.traceIdHexLength ?? 0;
    this.spanIdHex = init.spanIdHex;
    this.spanIdHexAt = init.spanIdHexAt ?? 0;
    this.sampleThreshold = init.sampleThreshold;
    const given = init.attributes;
    const owned = init.ownsAttributes === true && given !== undefined ? countWithin(given, state.limits.maxAttributes) : -1;
    this.attributes = owned >= 0 ? given! : {};
    this.attributeCount = owned >= 0 ? owned : 0;
    // outside the attribute limit, like resource attributes: it is the pipeline's, not the app's
    if (init.sampleThreshold !== undefined) this.attributes[SAMPLING_THRESHOLD_TAG] = init.sampleThreshold;
    if (owned < 0 && given) this.setAttributes(given);
  }

  /**
   * Makes room for `n` new attributes that the caller then stores straight into `attributes`
   * under constant keys (an instrumentation's own tags: a named store on a shape it made is
   * cheaper than setAttribute's keyed one); false, and nothing reserved, when the span has ended
   * or they would pass the attribute limit (then use setAttribute).
   */
  reserveAttributes(n: number): boolean {
    if (this.ended || this.attributeCount + n > this.state.limits.maxAttributes) return false;
    this.attributeCount += n;
    return true;
  }

  spanContext(): SpanContext {
    if (this.context === undefined) {
      this.context = { traceId: this.traceId, spanId: this.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false };
      if (this.traceState) this.context.traceState = this.traceState;
    }
    return this.context;
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (this.ended || typeof key !== 'string' || key.length === 0 || value === undefined || value === null || key === '__proto__') return this;
    if (!Object.hasOwn(this.attributes, key)) {
      if (this.attributeCount >= this.state.limits.maxAttributes) {
        this.droppedCount++;
        return this;
      }
      this.attributeCount++;
    }
    this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    if (typeof attributes !== 'object' || attributes === null) return this;
    for (const key of Object.keys(attributes)) {
      const value = attributes[key];
      if (value !== undefined) this.setAttribute(key, value);
    }
    return this;
  }

  addEvent(name: string, attributesOrStartTime?: Attributes | TimeInput, startTime?: TimeInput): this {
    if (this.ended || typeof name !== 'string') return this;
    if (this.events.length >= this.state.limits.maxEvents) {
      this.droppedCount++;
      return this;
    }
    let attributes: Attributes | undefined;
    let time = startTime;
    if (isTimeInput(attributesOrStartTime)) time = attributesOrStartTime;
    else if (attributesOrStartTime && typeof attributesOrStartTime === 'object') attributes = attributesOrStartTime;
    const event: SpanEvent = { name, timestampMicros: toEpochMicros(time), attributes };
    if (this.events === NO_EVENTS) this.events = [event];
    else (this.events as SpanEvent[]).push(event);
    return this;
  }

  /** Zipkin has no links; they are ignored. */
  addLink(_link: Link): this {
    return this;
  }

  addLinks(_links: Link[]): this {
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.ended || !status || typeof status.code !== 'number') return this;
    // OK is final; UNSET never overrides.
    if (this.status.code === SpanStatusCode.OK || status.code === SpanStatusCode.UNSET) return this;
    this.status = { code: status.code, message: typeof status.message === 'string' ? status.message : undefined };
    return this;
  }

  updateName(name: string): this {
    if (!this.ended && typeof name === 'string') this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    this.durationMicros = Math.max(1, toEpochMicros(endTime) - this.startMicros);
    if (!this.state.active) return;
    // resource attributes last, over a span attribute of the same name, as the OTel Zipkin
    // exporter writes them; the process's, not the span's: outside the attribute limit
    const resource = this.state.resourceAttributes;
    if (resource !== undefined) for (const key in resource) this.attributes[key] = resource[key];
    try {
      this.state.sink.accept(this);
    } catch (err) {
      this.state.logger.error({ err }, 'span sink threw; span dropped');
    }
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') {
      attributes['exception.message'] = exception;
    } else if (exception && typeof exception === 'object') {
      const type = exception.name ?? (typeof exception.code === 'string' ? exception.code : undefined);
      if (type) attributes['exception.type'] = type;
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    this.addEvent('exception', attributes, time);
  }
}

/** The number of own keys of `attributes` when it is a plain object within `limit` keys, else -1. */
function countWithin(attributes: Attributes, limit: number): number {
  if (typeof attributes !== 'object' || attributes === null || Object.getPrototypeOf(attributes) !== Object.prototype) return -1;
  let n = 0;
  for (const key in attributes) {
    if (key === '__proto__') return -1;
    if (++n > limit) return -1;
  }
  return n;
}

function isTimeInput(value: unknown): value is TimeInput {
  return typeof value === 'number' || value instanceof Date || Array.isArray(value);
}
