import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '@pintrace/runtime';
import { streamOf } from './log-stream.js';
import type { AgentMetrics } from './metrics.js';

export interface DirectoryMonitorOptions {
  dir: string;
  pollIntervalMs: number;
  log: Logger;
  metrics: AgentMetrics;
  /** A span log file changed (by name), or undefined for a periodic rescan of everything. */
  onChange(stream: string | undefined): void;
}

/**
 * Watches the spans directory with fs.watch (inotify on Linux) for low latency, and rescans on
 * a timer as the fallback for lost or unsupported events (network filesystems, event overflow).
 * Names starting with `.` (the agent's own state) are ignored.
 */
export class DirectoryMonitor {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: DirectoryMonitorOptions) {}

  start(): void {
    if (this.timer) return;
    this.openWatcher();
    this.timer = setInterval(() => {
      if (!this.watcher) this.openWatcher();
      this.o.onChange(undefined);
    }, this.o.pollIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private openWatcher(): void {
    if (this.stopped) return;
    try {
      const w = watch(this.o.dir, { persistent: false }, (_event, name) => {
        if (name === null) {
          this.o.onChange(undefined);
          return;
        }
        const stream = streamOf(name.toString());
        if (stream !== undefined) this.o.onChange(stream);
      });
      w.on('error', (err) => {
        this.o.metrics.errors.inc({ kind: 'watch' });
        this.o.log.warn({ err, dir: this.o.dir }, 'directory watch failed; polling until it can be re-established');
        w.close();
        if (this.watcher === w) this.watcher = undefined;
      });
      this.watcher = w;
    } catch (err) {
      this.o.metrics.errors.inc({ kind: 'watch' });
      this.o.log.warn({ err, dir: this.o.dir }, 'cannot watch the directory; polling only');
    }
  }
}
