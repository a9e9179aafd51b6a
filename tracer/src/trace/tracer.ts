import {
  context as contextApi,
  ROOT_CONTEXT,
  trace,
  SpanKind,
  TraceFlags,
  createTraceState,
  type Context,
  type Span,
  type SpanContext,
  type SpanOptions,
  type Tracer,
  type TraceState,
} from '@opentelemetry/api';
import { samplingEndpointOf, thresholdOfOtValue, thresholdOfPercent, withThreshold } from '@pintrace/model';
import { decideSampling, type Sampler, type SamplingState } from '@pintrace/sampler';
import { nowMicros, toEpochMicros } from '../clock.js';
import { lastIdAt, lastIdBytes, lastIdText, lastIdTextAt, lastIdWords, newSpanId, newTraceId, reserveTraceId } from '../ids.js';
import { getB3Details, SAMPLING_ONLY_KEY } from '../propagation/remote-context.js';
import { activeContext } from '../context/global-context.js';
import { ROOT } from '../context/linked-context.js';
import { RecordingSpan } from './recording-span.js';
import { UnsampledRootSpan } from './unsampled-root-span.js';
import type { TracerState } from './tracer-state.js';

/**
 * The OTel Tracer. Sampling: the root decides (through the sampler), a child inherits its
 * parent's decision, a remote parent's B3 state is honoured (debug forces, deny drops, defer lets
 * the sampler decide). Unsampled spans are OTel non-recording spans: two ids and a context, no
 * Zipkin record, no encoding; an unsampled root is decided from its id's random words and makes
 * its id strings only if its context is read (see UnsampledRootSpan).
 *
 * Server spans and B3: when a SERVER span starts under a remote parent that arrived as B3, it
 * joins the caller's span (same span id, the caller's parent id, `shared: true`), as Brave and
 * Finagle do, so a Zipkin trace shows one RPC span reported by both sides. With
 * `joinServerSpans: false`, or a parent from another propagator (W3C has no parent id), the server
 * span is a child of the caller's span instead.
 */
export class PintraceTracer implements Tracer {
  constructor(private readonly state: TracerState) {}

  startSpan(name: string, options: SpanOptions = {}, context: Context = activeContext()): Span {
    return this.start(name, options, context, false);
  }

  /**
   * startSpan for {@link startOwnSpan}: a sampled span takes `options.attributes` as its own.
   * `reservedRoot`: a root takes the id {@link unsampledRootContext} just drew and decided.
   */
  start(name: string, options: SpanOptions, context: Context, ownsAttributes: boolean, reservedRoot = false): Span {
    try {
      return this.createSpan(name, options, context, ownsAttributes, reservedRoot);
    } catch (err) {
      this.state.logger.error({ err }, 'startSpan failed; returning a non-recording span');
      return trace.wrapSpanContext({
        traceId: newTraceId(false),
        spanId: newSpanId(),
        traceFlags: TraceFlags.NONE,
      });
    }
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, context: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, a2?: SpanOptions | F, a3?: Context | F, a4?: F): ReturnType<F> | undefined {
    let options: SpanOptions | undefined;
    let parent: Context | undefined;
    let fn: F;
    if (typeof a2 === 'function') {
      fn = a2;
    } else if (typeof a3 === 'function') {
      options = a2;
      fn = a3;
    } else {
      options = a2;
      parent = a3;
      fn = a4 as F;
    }
    if (typeof fn !== 'function') return undefined;
    const parentContext = parent ?? activeContext();
    const span = this.startSpan(name, options, parentContext);
    return contextApi.with(trace.setSpan(parentContext, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }

  /**
   * For a request that arrived without trace context, whose span will be a root with `endpoint`
   * as its http.path: draws the root's id and decides it before any span options are made. When
   * the root is not sampled (nearly every request at Pinterest's 0.3 %), returns the request's
   * context, holding the unsampled root span, and no span is started; the name, the attributes
   * and the general path of startSpan are never needed. 'sampled': the id stays drawn, and the
   * caller starts the root at once with `reservedRoot`, so that the span carries the id this
   * decision was made on. Undefined when the sampler cannot decide from the id's words alone:
   * nothing was drawn.
   */
  unsampledRootContext(endpoint: string): Context | 'sampled' | undefined {
    const state = this.state;
    const sampler = state.sampler;
    if (sampler.isSampledLow64 === undefined) return undefined;
    reserveTraceId(state.traceId128Bit);
    try {
      if (state.active && sampler.isSampledLow64(lastIdWords.high, lastIdWords.low, endpoint)) return 'sampled';
    } catch {
      // startSpan's general path asks again, and logs what the sampler throws
      return undefined;
    }
    return trace.setSpan(ROOT, new UnsampledRootSpan(lastIdText, lastIdTextAt));
  }

  private createSpan(name: string, options: SpanOptions, context: Context, ownsAttributes: boolean, reservedRoot: boolean): Span {
    const state = this.state;
    const kind = options.kind ?? SpanKind.INTERNAL;
    // the empty context (most roots) holds neither a parent nor a sampling-only decision
    const empty = context === ROOT_CONTEXT || context === ROOT;
    const parentSpan = options.root || empty ? undefined : trace.getSpan(context);
    const parent = parentSpan?.spanContext();

    let traceId: string;
    let spanId: string;
    let parentSpanId: string | undefined;
    let shared = false;
    let propagated: SamplingState | undefined;
    let traceState: TraceState | undefined;
    let traceIdHex: Buffer | undefined;
    let traceIdHexAt = 0;
    let traceIdHexLength = 0;
    let spanIdHex: Buffer | undefined;
    let spanIdHexAt = 0;
    let inherited: RecordingSpan | undefined;
    // a root's ids, until it needs them as strings: where they lie in the id pool, and the
    // random words the sampler decides by
    let rootIds = '';
    let rootIdsAt = 0;
    let rootHigh = 0;
    let rootLow = 0;

    if (parent && trace.isSpanContextValid(parent)) {
      traceId = parent.traceId;
      traceState = parent.traceState;
      const details = parent.isRemote ? getB3Details(parent) : undefined;
      if (parentSpan instanceof RecordingSpan) {
        propagated = parentSpan.debug ? 'debug' : 'accept';
        inherited = parentSpan;
        traceIdHex = parentSpan.traceIdHex;
        traceIdHexAt = parentSpan.traceIdHexAt;
        traceIdHexLength = parentSpan.traceIdHexLength;
      } else if (details) propagated = details.sampling;
      else propagated = parent.traceFlags & TraceFlags.SAMPLED ? 'accept' : 'deny';
      if (kind === SpanKind.SERVER && details && state.joinServerSpans) {
        spanId = parent.spanId;
        parentSpanId = details.parentSpanId;
        shared = true;
      } else {
        spanId = newSpanId();
        spanIdHex = lastIdBytes;
        spanIdHexAt = lastIdAt;
        parentSpanId = parent.spanId;
      }
    } else {
      if (!reservedRoot) reserveTraceId(state.traceId128Bit);
      rootIds = lastIdText;
      rootIdsAt = lastIdTextAt;
      rootHigh = lastIdWords.high;
      rootLow = lastIdWords.low;
      traceIdHex = spanIdHex = lastIdBytes;
      traceIdHexAt = lastIdAt;
      traceIdHexLength = state.traceId128Bit ? 32 : 16;
      // a root's span id is its trace id's low half (Brave's convention): one random id, not two
      spanIdHexAt = lastIdAt + traceIdHexLength - 16;
      traceId = spanId = '';
      propagated = empty ? undefined : (context.getValue(SAMPLING_ONLY_KEY) as SamplingState | undefined);
    }

    // a root (or a deferred remote parent's child) names its endpoint for per-endpoint sample
    // rates: http.path when set, else its name (model's rule, which the collector counts by)
    const endpoint = propagated === undefined ? samplingEndpointOf(name, options.attributes?.['http.path']) : undefined;
    // not parent-based (OTel's always_on, always_off, traceidratio): every span asks the sampler;
    // a child asks at its service's rate, so with one rate it agrees with its root (same trace id)
    if (!state.parentBased) propagated = undefined;
    const root = rootIds !== '';
    let sampled: boolean;
    let debug = false;
    // a reserved root was decided on these words a moment ago (unsampledRootContext)
    if (reservedRoot && root && propagated === undefined) sampled = true;
    else if (root && propagated === undefined && state.sampler.isSampledLow64 !== undefined) {
      sampled = state.sampler.isSampledLow64(rootHigh, rootLow, endpoint);
    } else {
      if (root) traceId = rootIds.slice(rootIdsAt, rootIdsAt + 32);
      const decision = decideSampling(state.sampler, traceId, propagated, endpoint);
      sampled = decision.sampled;
      debug = decision.debug;
    }
    if (!sampled || !state.active) {
      if (root) return new UnsampledRootSpan(rootIds, rootIdsAt);
      const unsampled: SpanContext = { traceId, spanId, traceFlags: TraceFlags.NONE, isRemote: false };
      if (traceState) unsampled.traceState = traceState;
      return trace.wrapSpanContext(unsampled);
    }
    if (root) {
      if (traceId === '') traceId = rootIds.slice(rootIdsAt, rootIdsAt + 32);
      spanId = rootIds.slice(rootIdsAt + 16, rootIdsAt + 32);
    }
    // The rate that admitted the trace travels with it (tracestate `ot=th:`, and a tag on every
    // span recorded here), so collectors scale counts exactly; only sampled spans pay for it.
    let sampleThreshold: string | undefined;
    if (propagated === undefined) {
      sampleThreshold = rootThreshold(state.sampler, endpoint);
      if (sampleThreshold !== undefined) {
        const base = traceState ?? createTraceState();
        traceState = base.set('ot', withThreshold(base.get('ot'), sampleThreshold));
      }
    } else if (inherited !== undefined) sampleThreshold = inherited.sampleThreshold;
    else if (traceState !== undefined && !debug) sampleThreshold = thresholdOfOtValue(traceState.get('ot'));
    return new RecordingSpan(state, {
      traceId,
      spanId,
      parentSpanId,
      name,
      kind,
      startMicros: options.startTime === undefined ? nowMicros() : toEpochMicros(options.startTime),
      debug,
      shared,
      attributes: options.attributes,
      ownsAttributes,
      traceState,
      sampleThreshold,
      traceIdHex,
      traceIdHexAt,
      traceIdHexLength,
      spanIdHex,
      spanIdHexAt,
    });
  }
}

/**
 * `tracer.startSpan` for an instrumentation of ours whose `options.attributes` is a fresh object
 * literal nobody else holds: our tracer's sampled span keeps that object as its attributes rather
 * than copying it (any other tracer gets a plain startSpan).
 */
export function startOwnSpan(tracer: Tracer, name: string, options: SpanOptions, context: Context, reservedRoot = false): Span {
  return tracer instanceof PintraceTracer ? tracer.start(name, options, context, true, reservedRoot) : tracer.startSpan(name, options, context);
}

/**
 * The `th` of the rate a root was just sampled at, when the sampler can say it and it is under
 * 100 %: a span without a rate counts once, which is what 100 % means, so dev machines' spans and
 * headers stay as they were.
 */
function rootThreshold(sampler: Sampler, endpoint: string | undefined): string | undefined {
  if (sampler.rateOf === undefined) return undefined;
  try {
    const rate = sampler.rateOf(endpoint);
    return rate < 100 ? thresholdOfPercent(rate) : undefined;
  } catch {
    return undefined;
  }
}
