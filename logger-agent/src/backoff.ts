import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  /** First delay; default 100 ms. */
  initialMs?: number;
  /** Largest delay; default 10 s. */
  maxMs?: number;
}

/** Exponential backoff with full jitter between initialMs and the current ceiling. */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 100;
    this.maxMs = options.maxMs ?? 10_000;
  }

  get failures(): number {
    return this.attempt;
  }

  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt++;
    return Math.round(this.initialMs + Math.random() * Math.max(0, ceiling - this.initialMs));
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Sleeps without holding the process open; resolves early (false) when the signal aborts. */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await sleep(ms, undefined, { signal, ref: false });
    return true;
  } catch {
    return false;
  }
}
