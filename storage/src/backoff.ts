/**
 * Retry pacing shared by the writers: exponential backoff with jitter, and sleeps that a shutdown
 * cuts short, so a writer that retries forever (never dropping data) still stops at once.
 */
export function backoffDelayMs(attempt: number, initialDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}

export class InterruptibleSleeps {
  private readonly sleepers = new Set<() => void>();

  /** Resolves after `ms`, or as soon as wakeAll() is called; the timer never keeps the process up. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref?.();
      this.sleepers.add(wake);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }
}
