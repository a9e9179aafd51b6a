/**
 * The rate that admitted a trace, as OpenTelemetry's probability-sampling spec writes it in W3C
 * `tracestate` (https://opentelemetry.io/docs/specs/otel/trace/tracestate-probability-sampling/):
 *
 *   tracestate entry = "ot=" ot-value
 *   ot-value         = field *( ";" field )
 *   field            = key ":" value          ; th, rv, or others we keep untouched
 *   th               = 1*14 HEXLOWER          ; rejection threshold T, trailing zeros removed
 *
 * T is a 56-bit number: a trace is kept when its randomness is at least T, so the sampling
 * probability is p = 1 - T / 2^56 (`th:0` is 100 %). The same `th` value is written as the tag
 * {@link SAMPLING_THRESHOLD_TAG} on the spans of the trace, so a collector can scale each span by
 * 1/p without seeing the trace's context.
 */

/** The span tag that carries the admitting threshold (same text as tracestate's `th`). */
export const SAMPLING_THRESHOLD_TAG = 'sampling.threshold';

const TWO_56 = 2 ** 56;
const TH = /^[0-9a-f]{1,14}$/;

/** The `th` value for a sample rate in percent (0 < percent <= 100), or undefined outside it. */
export function thresholdOfPercent(percent: number): string | undefined {
  if (!(percent > 0 && percent <= 100)) return undefined;
  // T = 2^56 - round(p × 2^56): p × 2^56 is exact enough in a double for the small rates that
  // matter (1 % is 7.2e14 < 2^53), and the subtraction is done in BigInt, which 2^56 needs
  const kept = BigInt(Math.round((percent / 100) * TWO_56));
  const t = (1n << 56n) - kept;
  if (t <= 0n) return '0';
  // 14 hex digits, trailing zeros dropped as the spec asks (the value is a fraction's digits)
  const hex = t.toString(16).padStart(14, '0');
  return hex.replace(/0+$/, '') || '0';
}

/** The sampling probability (0 < p <= 1) a `th` value stands for, or undefined when malformed. */
export function probabilityOfThreshold(th: string): number | undefined {
  if (typeof th !== 'string' || !TH.test(th)) return undefined;
  const t = Number.parseInt(th.padEnd(14, '0'), 16);
  const p = 1 - t / TWO_56;
  return p > 0 ? p : undefined;
}

/** The `th` field of a tracestate `ot` value (`th:fd70a4;rv:...`), or undefined. */
export function thresholdOfOtValue(ot: string | undefined): string | undefined {
  if (!ot) return undefined;
  for (const field of ot.split(';')) {
    if (field.startsWith('th:')) {
      const th = field.slice(3);
      return TH.test(th) ? th : undefined;
    }
  }
  return undefined;
}

/** The `ot` value with its `th` field set to `th`, other fields kept. */
export function withThreshold(ot: string | undefined, th: string): string {
  const fields = ot ? ot.split(';').filter((f) => f.length > 0 && !f.startsWith('th:')) : [];
  return [`th:${th}`, ...fields].join(';');
}
