/**
 * The sampling state a trace context carries, as B3 defines it: `accept` (sampled), `deny` (not
 * sampled) and `debug` (sampled, and reported spans are marked `debug: true`). A missing state
 * (`undefined`) means "defer": no decision was made upstream, so the local sampler decides.
 */
export type SamplingState = 'accept' | 'deny' | 'debug';

/** What a tracer does with one trace. */
export interface SamplingDecision {
  /** Record and report the spans of this trace. */
  readonly sampled: boolean;
  /** Mark reported spans `debug: true` (implies sampled). */
  readonly debug: boolean;
}
