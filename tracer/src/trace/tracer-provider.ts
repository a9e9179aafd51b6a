import type { Attributes, Tracer, TracerProvider } from '@opentelemetry/api';
import type { Endpoint } from '@pintrace/model';
import type { Sampler } from '@pintrace/sampler';
import { stderrLogger, type DiagnosticLogger } from '../diagnostics.js';
import type { SpanSink } from './span-sink.js';
import { PintraceTracer } from './tracer.js';
import type { SpanLimits, TracerState } from './tracer-state.js';

export interface TracerProviderOptions {
  /** The local endpoint of every span (serviceName lower-cased, ipv4/ipv6 optional). */
  localEndpoint: Endpoint;
  sampler: Sampler;
  sink: SpanSink;
  /** New root traces get 128-bit ids. Default false (64-bit, as Pintrace used). */
  traceId128Bit?: boolean;
  /** Default true: server spans share the caller's span id (see PintraceTracer). */
  joinServerSpans?: boolean;
  /** Default true: children follow their parent's sampling decision (see TracerState.parentBased). */
  parentBased?: boolean;
  /** Tags on every span, over span attributes of the same name, as the OTel Zipkin exporter writes resource attributes. */
  resourceAttributes?: Attributes;
  limits?: Partial<SpanLimits>;
  logger?: DiagnosticLogger;
}

/**
 * The OTel TracerProvider: every tracer it hands out reports to one sink with one local endpoint.
 * Register it with `trace.setGlobalTracerProvider` (startTracing does) so libraries that use
 * `@opentelemetry/api` report through it.
 */
export class PintraceTracerProvider implements TracerProvider {
  private readonly state: TracerState;
  private readonly tracers = new Map<string, PintraceTracer>();
  private stopping: Promise<void> | undefined;

  constructor(options: TracerProviderOptions) {
    this.state = {
      localEndpoint: {
        ...options.localEndpoint,
        serviceName: options.localEndpoint.serviceName?.toLowerCase(),
      },
      sampler: options.sampler,
      sink: options.sink,
      traceId128Bit: options.traceId128Bit ?? false,
      joinServerSpans: options.joinServerSpans ?? true,
      parentBased: options.parentBased ?? true,
      resourceAttributes: resourceTags(options.resourceAttributes),
      limits: { maxAttributes: options.limits?.maxAttributes ?? 128, maxEvents: options.limits?.maxEvents ?? 128 },
      logger: options.logger ?? stderrLogger,
      active: true,
    };
  }

  /** All tracers share the provider's state; the name and version only key the cache. */
  getTracer(name: string, version?: string): Tracer {
    const key = `${name}@${version ?? ''}`;
    let tracer = this.tracers.get(key);
    if (!tracer) {
      tracer = new PintraceTracer(this.state);
      this.tracers.set(key, tracer);
    }
    return tracer;
  }

  /** Writes out every span ended so far. Never rejects. */
  forceFlush(): Promise<void> {
    return this.state.sink.flush();
  }

  /** Stops recording, then flushes and closes the sink. Idempotent. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      this.state.active = false;
      await this.state.sink.shutdown();
    })();
    return this.stopping;
  }
}

/** The resource's tags (frozen), or undefined when there are none. */
function resourceTags(attributes: Attributes | undefined): Attributes | undefined {
  if (!attributes) return undefined;
  const tags: Attributes = {};
  let any = false;
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    if (key === '__proto__' || value === undefined || value === null) continue;
    tags[key] = value;
    any = true;
  }
  return any ? Object.freeze(tags) : undefined;
}
