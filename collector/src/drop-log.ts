/**
 * Logs drops without flooding: the first drop of each reason is logged with its detail, later
 * ones are summed and logged as one line per reason every `intervalMs`.
 */
import type { Logger } from '@pintrace/runtime';

export class DropLog {
  private readonly seen = new Set<string>();
  private readonly pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly stage: string,
    private readonly intervalMs = 10_000,
  ) {}

  /** Records `count` drops for `reason`; `detail` goes into the log line the first time. */
  drop(reason: string, count: number, detail: Record<string, unknown>): void {
    if (!this.seen.has(reason)) {
      this.seen.add(reason);
      this.log.warn({ stage: this.stage, reason, count, ...detail }, 'dropped (later drops of this reason are summed)');
      return;
    }
    this.pending.set(reason, (this.pending.get(reason) ?? 0) + count);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Logs and clears the summed counts. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [reason, count] of this.pending) {
      this.log.warn({ stage: this.stage, reason, count }, 'dropped since the last report');
    }
    this.pending.clear();
  }
}
