import { RED_BUCKET_BOUNDS_US } from '../src/red-histogram.js';
import type { RedWindowDocument } from '../src/red-window-store.js';

export interface RedTotal {
  calls: number;
  errors: number;
  buckets: number[];
}

/**
 * Sums of window documents per (window, key), as any reader of the store adds them: whatever
 * collectors and flushes wrote them, the sums must come out the same.
 */
export function redTotals(docs: Iterable<RedWindowDocument>): Map<string, RedTotal> {
  const out = new Map<string, RedTotal>();
  for (const d of docs) {
    const key = `${d.timestamp_millis}|${d.serviceName}|${d.spanName}|${d.kind}|${d.remoteServiceName}`;
    const t = out.get(key) ?? { calls: 0, errors: 0, buckets: new Array<number>(RED_BUCKET_BOUNDS_US.length + 1).fill(0) };
    t.calls += d.calls;
    t.errors += d.errors;
    d.buckets.forEach((b, i) => (t.buckets[i]! += b));
    out.set(key, t);
  }
  return out;
}
