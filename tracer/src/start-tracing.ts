import { propagation, trace, type Attributes, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import {
  DeciderRateSource,
  devRate,
  FileDecider,
  isDevMachine,
  isValidSampleRate,
  ProbabilisticSampler,
  type RateSource,
  type Sampler,
} from '@pintrace/sampler';
import { acquireGlobalContextManager, releaseGlobalContextManager } from './context/global-context.js';
import { stderrLogger, type DiagnosticLogger } from './diagnostics.js';
import { TracingConfigError } from './errors.js';
import { SpanLogger, type SpanLoggerOptions } from './export/span-logger.js';
import { instrumentHttp } from './http/instrument-http.js';
import { instrumentFetch } from './http/instrument-fetch.js';
import type { HttpInstrumentationOptions } from './http/http-tracing.js';
import type { FetchInstrumentationOptions } from './http/instrument-fetch.js';
import { localEndpoint } from './local-endpoint.js';
import type { B3InjectEncoding } from './propagation/b3-propagator.js';
import { HttpPropagator } from './propagation/http-propagator.js';
import type { SpanSink } from './trace/span-sink.js';
import { PintraceTracerProvider } from './trace/tracer-provider.js';

export interface TracingOptions {
  /** The service's name in Zipkin (lower-cased), also the span file's name. */
  serviceName: string;
  /** Directory of the span file `<serviceName>@<instance>.jsonl` (see spanLogger.fileLayout). Required unless `sink` is given. */
  spansDir?: string;
  /** Where finished spans go instead of a span file (e.g. an InMemorySpanSink in tests). */
  sink?: SpanSink;
  /**
   * Percent of new traces to sample (0..100, fractions allowed), or a source of it. Default 100
   * (dev). With `deciderFile`, a number is the rate used while the decider sets none.
   */
  sampleRate?: number | RateSource;
  /**
   * A KingPin-style decider file (JSON name → percent), hot-reloaded: the rate is the first set of
   * `pintrace.sample_rate.<service>.<endpoint>`, `pintrace.sample_rate.<service>`, the adaptive
   * sampler's `pintrace.sample_rate_auto.<service>.<endpoint>` and `….<service>`,
   * `pintrace.sample_rate`, else `sampleRate` (a number), else 0. See @pintrace/sampler.
   */
  deciderFile?: string;
  /** Dev machine: sample 100 % whatever the decider says. Default: `PINTRACE_DEV=1|true`. */
  dev?: boolean;
  /** Replaces the probabilistic sampler (sampleRate is then ignored). */
  sampler?: Sampler;
  /**
   * True (default): only roots ask the sampler and children follow their parent's decision,
   * local or propagated (OTel's `parentbased_*`, Pintrace's rule). False: every span asks the
   * sampler whatever its parent decided (OTel's `always_on`, `always_off`, `traceidratio`).
   */
  parentBased?: boolean;
  /**
   * Resource attributes (e.g. from OTEL_RESOURCE_ATTRIBUTES): tags on every span, over span
   * attributes of the same name, as the OTel Zipkin exporter writes them. `serviceName`, not a
   * `service.name` here, names the service.
   */
  resourceAttributes?: Attributes;
  /** New traces get 128-bit ids. Default false. */
  traceId128Bit?: boolean;
  /** B3 form written on outgoing requests, or `none`. Default `multi`. (B3 and W3C are always read.) */
  b3Inject?: B3InjectEncoding | 'none';
  /** Write W3C `traceparent`/`tracestate` on outgoing requests. Default true. */
  w3cInject?: boolean;
  /** Read B3 headers of incoming requests. Default true. */
  b3Extract?: boolean;
  /** Read W3C `traceparent`/`tracestate` of incoming requests. Default true. */
  w3cExtract?: boolean;
  /** Server spans share the caller's span id (Zipkin convention). Default true. */
  joinServerSpans?: boolean;
  /**
   * Register the provider and the B3+W3C propagator as the OTel globals. Default true. Turn off to run
   * several services in one process (tests, the demo); the context manager is global either way.
   */
  registerGlobal?: boolean;
  /** Patch node:http and node:https (see instrumentHttp). Default: same as registerGlobal. */
  instrumentHttp?: boolean | HttpInstrumentationOptions;
  /** Trace `fetch` (undici) through its diagnostics_channel events. Default: same as registerGlobal. */
  instrumentFetch?: boolean | FetchInstrumentationOptions;
  /** Span file tuning (queue size, batch size, rotation); `dir` and `serviceName` come from above. */
  spanLogger?: Omit<SpanLoggerOptions, 'dir' | 'serviceName' | 'logger'>;
  /** Where the tracer reports its own problems. Default: JSON lines on stderr. */
  logger?: DiagnosticLogger;
}

export interface Tracing {
  /** An OTel tracer of this service. */
  readonly tracer: Tracer;
  readonly provider: PintraceTracerProvider;
  readonly propagator: TextMapPropagator;
  /** The span logger, when spans go to a file. */
  readonly spanLogger: SpanLogger | undefined;
  /** The hot-reloaded decider, when `deciderFile` is set. */
  readonly decider: FileDecider | undefined;
  /** Writes every span ended so far. Never rejects. */
  flush(): Promise<void>;
  /** Undoes patches and registrations, flushes and closes the span file. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing one service: spans sampled at `sampleRate` percent are written to
 * `<spansDir>/<serviceName>@<instance>.jsonl` (a file per process), B3 is the propagation format, and (by default) the provider
 * and propagator are registered globally and node:http/https are instrumented.
 * Throws {@link TracingConfigError} on bad options; never throws afterwards.
 */
export function startTracing(options: TracingOptions): Tracing {
  const logger = options.logger ?? stderrLogger;
  const serviceName = options.serviceName;
  if (typeof serviceName !== 'string' || serviceName.trim().length === 0) {
    throw new TracingConfigError('startTracing: set `serviceName` to the name this service has in Zipkin');
  }
  if (!options.sink && !options.spansDir) {
    throw new TracingConfigError('startTracing: set `spansDir` (the directory the logger agent tails) or pass a `sink`');
  }
  const dev = options.dev ?? isDevMachine();
  const decider = options.deciderFile && !options.sampler ? new FileDecider({ path: options.deciderFile, logger }) : undefined;
  let rate = sampleRateOf(options.sampleRate);
  if (decider) {
    const defaultRate = typeof options.sampleRate === 'number' ? options.sampleRate : 0;
    rate = new DeciderRateSource({ decider, serviceName, defaultRate, dev });
  } else if (dev && options.sampleRate !== undefined) {
    rate = devRate();
  }
  const sampler = options.sampler ?? new ProbabilisticSampler(rate);

  const spanLogger = options.sink ? undefined : new SpanLogger({ ...options.spanLogger, dir: options.spansDir as string, serviceName, logger });
  const sink: SpanSink = options.sink ?? (spanLogger as SpanLogger);
  const provider = new PintraceTracerProvider({
    localEndpoint: localEndpoint(serviceName),
    sampler,
    sink,
    traceId128Bit: options.traceId128Bit,
    joinServerSpans: options.joinServerSpans,
    parentBased: options.parentBased,
    resourceAttributes: options.resourceAttributes,
    logger,
  });
  const propagator = new HttpPropagator({
    b3Inject: options.b3Inject,
    w3cInject: options.w3cInject,
    b3Extract: options.b3Extract,
    w3cExtract: options.w3cExtract,
  });
  const tracer = provider.getTracer('@pintrace/tracer');

  acquireGlobalContextManager();
  const registerGlobal = options.registerGlobal ?? true;
  let registered = false;
  if (registerGlobal) {
    const providerSet = trace.setGlobalTracerProvider(provider);
    const propagatorSet = propagation.setGlobalPropagator(propagator);
    registered = providerSet && propagatorSet;
    if (!registered) logger.warn({ serviceName }, 'startTracing: an OTel tracer provider or propagator was already registered');
  }
  const http = options.instrumentHttp ?? registerGlobal;
  const undoHttp = http ? instrumentHttp({ tracer, propagator }, typeof http === 'object' ? http : {}) : undefined;
  const fetchOption = options.instrumentFetch ?? registerGlobal;
  const undoFetch = fetchOption ? instrumentFetch({ tracer, propagator }, typeof fetchOption === 'object' ? fetchOption : {}) : undefined;

  let stopping: Promise<void> | undefined;
  return {
    tracer,
    provider,
    propagator,
    spanLogger,
    decider,
    flush: () => provider.forceFlush(),
    shutdown: () => {
      stopping ??= (async () => {
        try {
          undoHttp?.();
          undoFetch?.();
          if (registered) {
            trace.disable();
            propagation.disable();
          }
          releaseGlobalContextManager();
        } catch (err) {
          logger.error({ err }, 'tracing shutdown: could not undo registrations');
        }
        await decider?.shutdown();
        await provider.shutdown();
      })();
      return stopping;
    },
  };
}

function sampleRateOf(rate: number | RateSource | undefined): RateSource {
  if (rate === undefined) return devRate();
  if (typeof rate === 'number') {
    if (!isValidSampleRate(rate)) {
      throw new TracingConfigError(`startTracing: sampleRate must be a percentage from 0 to 100 (fractions allowed, e.g. 0.3), got ${String(rate)}`);
    }
    return { current: () => rate };
  }
  if (typeof rate?.current !== 'function') {
    throw new TracingConfigError('startTracing: sampleRate must be a number (percent) or an object with a current() method');
  }
  return rate;
}
