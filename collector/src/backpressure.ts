/**
 * Bounds the spans between intake and a durable write, with hysteresis: when more than
 * `highWater` spans are held (grouped, sampled, waiting for a bulk or its retries), intake pauses
 * (the assigned partitions are paused at the consumer); it resumes once fewer than `lowWater`
 * remain. Pausing, not blocking the consumer's handler, keeps heartbeats and rebalances working
 * while Elasticsearch is slow or down.
 */
import type { CollectorMetrics } from './metrics.js';

export interface BackpressureOptions {
  highWater: number;
  /** Default highWater / 2. */
  lowWater?: number;
  metrics: CollectorMetrics;
  /** Called once when crossing above highWater, and once when back below lowWater. */
  onPause: () => void;
  onResume: () => void;
}

export class Backpressure {
  private held = 0;
  private pausedNow = false;
  readonly highWater: number;
  readonly lowWater: number;

  constructor(private readonly options: BackpressureOptions) {
    this.highWater = options.highWater;
    this.lowWater = options.lowWater ?? Math.floor(options.highWater / 2);
    if (!(this.lowWater < this.highWater)) throw new RangeError(`backpressure: lowWater ${this.lowWater} must be below highWater ${this.highWater}`);
  }

  /** Spans held now. */
  get spans(): number {
    return this.held;
  }

  get paused(): boolean {
    return this.pausedNow;
  }

  add(count: number): void {
    this.held += count;
    this.options.metrics.heldSpans.set(this.held);
    if (!this.pausedNow && this.held > this.highWater) {
      this.pausedNow = true;
      this.options.metrics.paused.set(1);
      this.options.metrics.pauses.inc();
      this.options.onPause();
    }
  }

  remove(count: number): void {
    this.held = Math.max(0, this.held - count);
    this.options.metrics.heldSpans.set(this.held);
    if (this.pausedNow && this.held < this.lowWater) {
      this.pausedNow = false;
      this.options.metrics.paused.set(0);
      this.options.onResume();
    }
  }

  /** Re-applies the current state (after a rebalance changed the assignment). */
  reapply(): void {
    if (this.pausedNow) this.options.onPause();
  }
}
