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
 *
 * What has windows, for the health page and for anyone building one:
 *   GET /api/v2/pintrace/red/services?endTs=&lookback=          ["service", ...] sorted
 *   GET /api/v2/pintrace/red/spans?serviceName=&endTs=&lookback= ["span name", ...] sorted
 * (windows starting in [endTs - lookback, endTs); same defaults and bounds as the series).
 */
import { histogramQuantile, QueryError, type ElasticsearchRedWindowStore, type RedStep } from '@pintrace/storage';
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

export interface RedNamesOptions extends Omit<RedApiOptions, 'store'> {
  store: Pick<ElasticsearchRedWindowStore, 'serviceNames' | 'spanNames'>;
}

function serviceNameOf(params: Params): string {
  const serviceName = params.requiredString('serviceName').trim().toLowerCase();
  if (serviceName === '') throw invalid('serviceName is empty');
  return serviceName;
}

interface Range {
  endTs: number;
  lookback: number;
}

function parseRange(params: Params, options: Omit<RedApiOptions, 'store'>): Range {
  const endTs = params.optionalLong('endTs') ?? options.now();
  const lookback = Math.min(params.optionalLong('lookback') ?? options.defaultLookback, options.maxLookback);
  return { endTs, lookback };
}

function checkRange({ endTs, lookback }: Range): Range {
  if (endTs <= 0) throw invalid('endTs <= 0');
  if (endTs > MAX_DATE_MS) throw invalid(`endTs > ${MAX_DATE_MS}`);
  if (lookback <= 0) throw invalid('lookback <= 0');
  return { endTs, lookback };
}

const rangeOf = (params: Params, options: Omit<RedApiOptions, 'store'>): Range => checkRange(parseRange(params, options));

/** `pintrace/red/services`: services with windows in the range. */
export async function redServiceNames(params: Params, options: RedNamesOptions): Promise<Reply> {
  return json(JSON.stringify(await options.store.serviceNames(rangeOf(params, options))));
}

/** `pintrace/red/spans`: span names of a service with windows in the range. */
export async function redSpanNames(params: Params, options: RedNamesOptions): Promise<Reply> {
  const serviceName = serviceNameOf(params);
  return json(JSON.stringify(await options.store.spanNames({ serviceName, ...rangeOf(params, options) })));
}

export async function redSeries(params: Params, options: RedApiOptions): Promise<Reply> {
  const serviceName = serviceNameOf(params);
  const spanNameRaw = params.optionalString('spanName');
  const spanName = spanNameRaw === undefined || spanNameRaw.trim() === '' ? undefined : spanNameRaw.trim().toLowerCase();
  const range = parseRange(params, options);
  const stepMs = params.optionalLong('step') ?? DEFAULT_STEP_MS;
  const { endTs, lookback } = checkRange(range);
  if (stepMs <= 0) throw invalid('step <= 0');
  if (Math.ceil(lookback / stepMs) > MAX_STEPS) throw invalid(`lookback / step is over ${MAX_STEPS} steps; use a larger step`);
  const steps = await options.store.query({ serviceName, ...(spanName !== undefined ? { spanName } : {}), endTs, lookback, stepMs });
  const out = steps.map(redPoint);
  return json(JSON.stringify(out));
}

/** One step as the API answers it (and the health page draws it). */
export interface RedPoint {
  timestamp: number;
  calls: number;
  errors: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export function redPoint(s: RedStep): RedPoint {
  return {
    timestamp: s.timestamp,
    calls: round3(s.calls),
    errors: round3(s.errors),
    p50: micros(histogramQuantile(0.5, s.buckets)),
    p90: micros(histogramQuantile(0.9, s.buckets)),
    p99: micros(histogramQuantile(0.99, s.buckets)),
  };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function micros(us: number | undefined): number | null {
  // up, not to nearest: the value stays inside its bucket (lower bound excluded, bounds are whole
  // µs); less a hair, so float noise above a bound (66500.0000001) does not step past it
  return us === undefined ? null : Math.ceil(us - 1e-6);
}
