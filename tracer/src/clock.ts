import { performance } from 'node:perf_hooks';
import type { HrTime, TimeInput } from '@opentelemetry/api';

/**
 * Span timestamps in epoch microseconds, as Zipkin wants them. Wall time is read once at start
 * (performance.timeOrigin) and advanced with the monotonic clock, so timestamps have microsecond
 * resolution and durations never go negative.
 */
const origin = performance.timeOrigin;

/** Now, in epoch microseconds. */
export function nowMicros(): number {
  return Math.round((origin + performance.now()) * 1000);
}

/**
 * Converts an OTel TimeInput to epoch microseconds: HrTime is [seconds, nanoseconds] since the
 * epoch; a Date is wall time; a number is epoch milliseconds, or, when smaller than the process
 * start, milliseconds from performance.now() (the OTel API convention).
 */
export function toEpochMicros(time: TimeInput | undefined): number {
  if (time === undefined) return nowMicros();
  if (typeof time === 'number') {
    if (!Number.isFinite(time)) return nowMicros();
    return Math.round((time < origin ? origin + time : time) * 1000);
  }
  if (time instanceof Date) {
    const ms = time.getTime();
    return Number.isFinite(ms) ? ms * 1000 : nowMicros();
  }
  if (isHrTime(time)) return time[0] * 1_000_000 + Math.round(time[1] / 1000);
  return nowMicros();
}

function isHrTime(value: unknown): value is HrTime {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'number';
}
