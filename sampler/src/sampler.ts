import type { SamplingDecision, SamplingState } from './sampling-state.js';

/**
 * Decides whether a new trace is sampled. Only the root of a trace asks a sampler: downstream
 * services honour the decision that arrives with the trace context (see {@link decideSampling}).
 */
export interface Sampler {
  /**
   * True to sample the trace with this id. Must be a pure function of the id for a given rate, so
   * that every service that has to decide for the same trace decides the same way.
   * @param traceId 16 or 32 lower-hex characters.
   * @param endpoint what the root span serves (its `http.path`, else its name), for samplers with
   *   per-endpoint rates; others ignore it.
   */
  isSampled(traceId: string, endpoint?: string): boolean;
  /**
   * Optional: what {@link isSampled} decides for a 64-bit or longer trace id whose low 64 bits
   * are `high` and `low` (unsigned 32-bit halves), so that a tracer can decide from the random
   * words of a new id before writing it as hex (an unsampled root then never writes it).
   */
  isSampledLow64?(high: number, low: number, endpoint?: string): boolean;
  /**
   * Optional: the rate in percent that {@link isSampled} applies to this endpoint now, so that a
   * sampled root can record what admitted it. Asked only after a root was sampled.
   */
  rateOf?(endpoint?: string): number;
}

/** Samples every trace (dev machines). */
export const ALWAYS_SAMPLE: Sampler = { isSampled: () => true, isSampledLow64: () => true, rateOf: () => 100 };

/** Samples no trace, except those that arrive with `accept` or `debug`. */
export const NEVER_SAMPLE: Sampler = { isSampled: () => false, isSampledLow64: () => false };

const SAMPLED: SamplingDecision = Object.freeze({ sampled: true, debug: false });
const NOT_SAMPLED: SamplingDecision = Object.freeze({ sampled: false, debug: false });
const DEBUG: SamplingDecision = Object.freeze({ sampled: true, debug: true });

/**
 * The sampling rule of the whole pipeline: debug forces sampling, a propagated accept or deny is
 * honoured, and only when upstream deferred (`undefined`) does the local sampler decide.
 * Returns shared frozen objects, so deciding allocates nothing.
 */
export function decideSampling(sampler: Sampler, traceId: string, propagated: SamplingState | undefined, endpoint?: string): SamplingDecision {
  switch (propagated) {
    case 'debug':
      return DEBUG;
    case 'accept':
      return SAMPLED;
    case 'deny':
      return NOT_SAMPLED;
    default:
      return sampler.isSampled(traceId, endpoint) ? SAMPLED : NOT_SAMPLED;
  }
}
