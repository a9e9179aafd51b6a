/**
 * A pluggable span fix-up, after zipkin-sparkstreaming's Adjuster (pinterest-design §1.3):
 * `adjust` runs only where `shouldAdjust` says so and returns a new span (never mutates its
 * input). Adjusters cannot drop spans; dropping is the filter stage's job.
 */
import type { Span } from '@pintrace/model';

export interface SpanAdjuster {
  /** Stable name; becomes the `adjuster` metric label. */
  readonly name: string;
  shouldAdjust(span: Span): boolean;
  adjust(span: Span): Span;
}
