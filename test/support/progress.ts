import { rssMb } from './agent-load.js';

/**
 * The fault tests' record of progress: a count (lines acknowledged, spans written) with the time
 * since `startedAt` it was read at (-1 when it could not be read), and the peak RSS of the process
 * doing the work. The stalls a fault causes are read from it afterwards.
 */
export class Progress {
  readonly samples: Array<[number, number]> = [];
  peakRssMb = 0;

  constructor(readonly startedAt: number) {}

  add(count: number): void {
    this.samples.push([Date.now() - this.startedAt, count]);
  }

  /** Reads `count` and the RSS of `pid` every 100 ms; the returned function stops and waits. */
  sample(count: () => Promise<number>, pid: () => number | undefined): () => Promise<void> {
    let running = true;
    const loop = (async () => {
      while (running) {
        this.add(await count().catch(() => -1));
        this.peakRssMb = Math.max(this.peakRssMb, rssMb(pid()) ?? 0);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    return async () => {
      running = false;
      await loop;
    };
  }

  /** The longest time in [from, to) (ms since the start) in which the count did not move while it was below `done`. */
  longestStallMs(from: number, done: number, to = Number.POSITIVE_INFINITY): number {
    let stall = 0;
    const s = this.samples;
    for (let i = 1, last = from; i < s.length; i++) {
      const [t, n] = s[i]!;
      if (t < from || t >= to || n < 0) continue;
      if (n > s[i - 1]![1] || n >= done) last = t;
      else stall = Math.max(stall, t - last);
    }
    return stall;
  }
}
