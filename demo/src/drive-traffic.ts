export interface TrafficOptions {
  /** Requests started per second. */
  rps: number;
  /** Stop starting requests after this long. Default 10 s, unless `requests` is set. */
  durationMs?: number;
  /** Stop after this many requests. */
  requests?: number;
  /** Per-request timeout. Default 5 s. */
  timeoutMs?: number;
  /** Stops early. */
  signal?: AbortSignal;
  /** Percent of requests sent to `/fail` (an error trace, answered 502). Default 1. */
  errorPercent?: number;
  /** Percent of requests sent to `/slow` (a slow trace). Default 2. */
  slowPercent?: number;
}

export interface TrafficResult {
  sent: number;
  ok: number;
  failed: number;
  /** The `x-trace-id` of the first 1000 answered requests. */
  traceIds: string[];
}

const MAX_TRACE_IDS = 1000;

/**
 * Sends GET requests to `url` at a steady rate (with `fetch`, which the HTTP instrumentation does
 * not touch, so each request starts a new trace at the frontend) and waits for the answers. A few
 * go to `/fail` and `/slow` instead (`errorPercent`, `slowPercent`), so tail sampling and the
 * dependency graph have error and slow traces to show.
 */
export async function driveTraffic(url: string, options: TrafficOptions): Promise<TrafficResult> {
  if (!(options.rps > 0)) throw new RangeError(`driveTraffic: rps must be > 0, got ${String(options.rps)}`);
  const durationMs = options.durationMs ?? (options.requests === undefined ? 10_000 : Number.POSITIVE_INFINITY);
  const limit = options.requests ?? Number.POSITIVE_INFINITY;
  const timeoutMs = options.timeoutMs ?? 5000;
  const result: TrafficResult = { sent: 0, ok: 0, failed: 0, traceIds: [] };
  const inFlight = new Set<Promise<void>>();
  const started = Date.now();
  const intervalMs = 1000 / options.rps;

  const errorPercent = options.errorPercent ?? 1;
  const slowPercent = options.slowPercent ?? 2;
  const base = url.endsWith('/') ? url.slice(0, -1) : url;

  const one = async (): Promise<void> => {
    const dice = Math.random() * 100;
    const target = dice < errorPercent ? `${base}/fail` : dice < errorPercent + slowPercent ? `${base}/slow` : url;
    try {
      const res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
      if (res.ok) result.ok++;
      else result.failed++;
      const traceId = res.headers.get('x-trace-id');
      if (traceId && result.traceIds.length < MAX_TRACE_IDS) result.traceIds.push(traceId);
    } catch {
      result.failed++;
    }
  };

  while (result.sent < limit && Date.now() - started < durationMs && !options.signal?.aborted) {
    const p = one().finally(() => inFlight.delete(p));
    inFlight.add(p);
    result.sent++;
    const next = started + result.sent * intervalMs;
    const wait = next - Date.now();
    if (wait > 0 && result.sent < limit) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await Promise.all(inFlight);
  return result;
}
