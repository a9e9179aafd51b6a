/**
 * `GET /api/v2/pintrace/red?serviceName=&spanName=&endTs=&lookback=&step=`: RED series of a
 * service (every span name summed) or of one endpoint, from the collector's stored windows:
 *
 *   [{"timestamp":<step start, epoch ms>,"calls":N,"errors":N,"p50":µs,"p90":µs,"p99":µs}, ...]
 *
 * one object per step of `step` ms ending at `endTs` (default now), oldest first, empty steps
 * included with zero calls and null percentiles. Calls and errors are already scaled by the
 * sampling rate (fractions rounded to 3 decimals); percentiles are interpolated in the summed
 * duration histogram (storage's histogramQuantile), so each lies in the bucket of the true one.
 * A window counts in the step where it starts; a step shorter than the window shows the window in
 * one step and nothing in the next ones.
 */
import { histogramQuantile, QueryError, type ElasticsearchRedWindowStore } from '@pintrace/storage';
import type { Params } from './params.js';
import { json, type Reply } from './reply.js';

export interface RedApiOptions {
  store: Pick<ElasticsearchRedWindowStore, 'query'>;
  defaultLookback: number;
  maxLookback: number;
  now: () => number;
}

/** Default step; at most MAX_STEPS steps per answer. */
const DEFAULT_STEP_MS = 60_000;
const MAX_STEPS = 1_440;
const MAX_DATE_MS = 8_640_000_000_000_000;

function invalid(message: string): QueryError {
  return new QueryError('QUERY_INVALID', message);
}

export async function redSeries(params: Params, options: RedApiOptions): Promise<Reply> {
  const serviceName = params.requiredString('serviceName').trim().toLowerCase();
  if (serviceName === '') throw invalid('serviceName is empty');
  const spanNameRaw = params.optionalString('spanName');
  const spanName = spanNameRaw === undefined || spanNameRaw.trim() === '' ? undefined : spanNameRaw.trim().toLowerCase();
  const endTs = params.optionalLong('endTs') ?? options.now();
  const lookback = Math.min(params.optionalLong('lookback') ?? options.defaultLookback, options.maxLookback);
  const stepMs = params.optionalLong('step') ?? DEFAULT_STEP_MS;
  if (endTs <= 0) throw invalid('endTs <= 0');
  if (endTs > MAX_DATE_MS) throw invalid(`endTs > ${MAX_DATE_MS}`);
  if (lookback <= 0) throw invalid('lookback <= 0');
  if (stepMs <= 0) throw invalid('step <= 0');
  if (Math.ceil(lookback / stepMs) > MAX_STEPS) throw invalid(`lookback / step is over ${MAX_STEPS} steps; use a larger step`);
  const steps = await options.store.query({ serviceName, ...(spanName !== undefined ? { spanName } : {}), endTs, lookback, stepMs });
  const out = steps.map((s) => ({
    timestamp: s.timestamp,
    calls: round3(s.calls),
    errors: round3(s.errors),
    p50: micros(histogramQuantile(0.5, s.buckets)),
    p90: micros(histogramQuantile(0.9, s.buckets)),
    p99: micros(histogramQuantile(0.99, s.buckets)),
  }));
  return json(JSON.stringify(out));
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function micros(us: number | undefined): number | null {
  // up, not to nearest: the value stays inside its bucket (lower bound excluded, bounds are whole
  // µs); less a hair, so float noise above a bound (66500.0000001) does not step past it
  return us === undefined ? null : Math.ceil(us - 1e-6);
}
