/**
 * The duration histogram of RED windows: explicit bucket upper bounds in microseconds, the same
 * for every collector, every stored window and the Prometheus series (`le` in seconds), so
 * windows merge by adding counts bucket by bucket with nothing lost, and a stored window and a
 * scrape agree. Explicit bounds (OpenTelemetry's and Prometheus' classic histogram) rather than
 * a log-linear sketch: Prometheus classic histograms need fixed `le` labels, and a 1-2.5-5
 * series from 100 µs to 60 s keeps the relative width of a bucket at most 2.5×, which is what a
 * p99 "falls in the right bucket" promise needs; a sketch would be finer but could not be one
 * series on /metrics.
 *
 *   counts[i] = weight of durations d with bounds[i-1] < d <= bounds[i]   (bounds[-1] = 0)
 *   counts[bounds.length] = weight of durations above the last bound       (+Inf)
 */
export const RED_BUCKET_BOUNDS_US: readonly number[] = Object.freeze([
  100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000,
]);

/**
 * The stored window's duration buckets as fields of their own, `h0` … `h18` (+Inf last), beside the
 * `buckets` array: an array's values lose their positions in doc values, separate fields let the
 * store sum each bucket.
 */
export const RED_BUCKET_FIELDS: readonly string[] = Object.freeze(Array.from({ length: RED_BUCKET_BOUNDS_US.length + 1 }, (_, i) => `h${i}`));

/** Index of the bucket holding `durationUs` (bounds.length for +Inf). */
export function bucketIndex(durationUs: number, bounds: readonly number[] = RED_BUCKET_BOUNDS_US): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (durationUs <= bounds[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The q-quantile (0 < q <= 1) of a histogram in microseconds, as Prometheus' histogram_quantile
 * computes it: the bucket where the cumulative weight reaches q × total, interpolated linearly
 * inside it (from 0 in the first bucket); in the +Inf bucket the last finite bound. The result
 * always lies inside the bucket that holds the rank, so it is in the true quantile's bucket
 * whenever the counts are the true ones. Undefined for an empty histogram.
 */
export function histogramQuantile(q: number, counts: readonly number[], bounds: readonly number[] = RED_BUCKET_BOUNDS_US): number | undefined {
  let total = 0;
  for (const c of counts) total += c;
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0 && cumulative + c >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1];
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return lower + (upper - lower) * Math.min(1, Math.max(0, (rank - cumulative) / c));
    }
    cumulative += c;
  }
  return bounds[bounds.length - 1];
}

/** Adds `from` into `into` bucket by bucket (both of the same bounds). */
export function addCounts(into: number[], from: readonly number[]): void {
  for (let i = 0; i < from.length; i++) into[i] = (into[i] ?? 0) + from[i]!;
}
