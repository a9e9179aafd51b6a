/**
 * The one retry pacing of Pintrace-TS: capped exponential backoff with "equal jitter", and a sleep
 * that an AbortSignal cuts short.
 *
 * Delay before retry n (n = 1, 2, ...): ceiling = min(maxMs, initialMs * 2^(n-1)), and the delay
 * is uniform in [ceiling / 2, ceiling]. Equal jitter rather than full jitter: a retry never comes
 * sooner than half the ceiling (a store over capacity gets real relief), and never later than the
 * ceiling (a caller that promises "at least one try every maxMs" can keep it), while processes
 * that failed together still spread out.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface BackoffOptions {
  /** Ceiling of the first delay; default 100 ms. */
  initialMs?: number;
  /** Largest delay; default 10 s. */
  maxMs?: number;
  /** Source of jitter in [0, 1); default Math.random (tests pass a fixed one). */
  random?: () => number;
}

/** The delay before retry `attempt` (1 for the first retry), by the rule above. */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const initialMs = options.initialMs ?? 100;
  const maxMs = options.maxMs ?? 10_000;
  const random = options.random ?? Math.random;
  // The exponent is capped so 2^n stays a finite number however long a writer has been retrying.
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}

/** A run of failures: each next() gives the following delay; reset() after a success. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions = {}) {}

  /** Failures since the last reset(). */
  get failures(): number {
    return this.attempt;
  }

  next(): number {
    this.attempt++;
    return backoffDelayMs(this.attempt, this.options);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/**
 * Waits `ms` without holding the process open. Resolves true when the time is up, false at once
 * when `signal` aborts (before or during the wait): a shutdown never waits out a retry delay.
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await delay(ms, undefined, { signal, ref: false });
    return true;
  } catch (err) {
    if (signal?.aborted) return false;
    throw err;
  }
}
