/**
 * Stage `group`: spans grouped by trace ID, a trace closed once no span of it arrived for
 * `inactivityMs` (a session window), or earlier when a bound is hit:
 *   - `maxAgeMs` since its first span (a trace that never goes quiet still gets written);
 *   - `maxSpansPerTrace` (the trace is closed as is; later spans open a new group);
 *   - `maxOpenTraces` (the least recently active trace is closed);
 *   - `maxHeldSpans` across all open traces (least recently active first).
 * Early closes are counted by reason in `traces_closed_total`. `inactivityMs = 0` groups within
 * each incoming batch only and holds nothing.
 *
 * Offsets: each open trace holds a reference on the receipt of every batch that brought it
 * spans, so an offset is committable only once every trace with spans from it was written (or
 * dropped on purpose). The incoming batch's own hold is released once the traces took theirs.
 * With a window, the receipt is marked `held`, letting the source fetch on (intake is bounded by
 * the backpressure of the held spans, not by the window); without one the source keeps waiting
 * until the batch is written, one batch per partition in flight.
 *
 * State: the open traces live in a `TraceGroups` the pipeline creates and passes to the operator,
 * so what the stage holds is a value the pipeline can ask (`size`, `heldSpans`) and change on a
 * rebalance: `revoke(keep)` forgets the spans that came from partitions this member no longer
 * owns and says how many; they are neither written nor committed here (the new owner reads them
 * again). The operator only adds batches, sweeps on a timer and emits what closed.
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Span } from '@pintrace/model';
import type { CollectorMetrics, StageMetrics } from './metrics.js';
import type { Receipt } from './receipt.js';
import type { SpanBatch, TraceBatch, TraceGroup } from './types.js';

export interface TraceGroupsOptions {
  metrics: CollectorMetrics;
  /** Close a trace after this long without a new span; 0 = group within each batch only. */
  inactivityMs: number;
  /** Close a trace this long after its first span at the latest. Default 10 × inactivityMs, at least 1 s. */
  maxAgeMs?: number;
  maxSpansPerTrace: number;
  maxOpenTraces: number;
  maxHeldSpans: number;
}

interface Part {
  spans: Span[];
  receipts: Receipt[];
}

interface OpenTrace {
  traceId: string;
  /** Per partition the spans came from (one part unless producers keyed by something else). */
  parts: Map<string, Part>;
  spanCount: number;
  firstAt: number;
  lastAt: number;
}

export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** The open traces of the group stage, least recently active first. */
export class TraceGroups {
  readonly inactivityMs: number;
  private readonly maxAgeMs: number;
  private readonly open = new Map<string, OpenTrace>();
  private held = 0;
  private readonly counts: StageMetrics;

  constructor(private readonly options: TraceGroupsOptions) {
    const { inactivityMs, maxSpansPerTrace, maxOpenTraces, maxHeldSpans } = options;
    for (const [name, v] of Object.entries({ maxSpansPerTrace, maxOpenTraces, maxHeldSpans })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`group: ${name} must be an integer >= 1, got ${v}`);
    }
    if (!(inactivityMs >= 0)) throw new RangeError(`group: inactivityMs must be >= 0, got ${inactivityMs}`);
    this.inactivityMs = inactivityMs;
    this.maxAgeMs = options.maxAgeMs ?? Math.max(1000, inactivityMs * 10);
    this.counts = options.metrics.stage('group', 'span');
  }

  /** Open traces now. */
  get size(): number {
    return this.open.size;
  }

  /** Spans held in open traces now. */
  get heldSpans(): number {
    return this.held;
  }

  /**
   * Takes the spans of `batch` at time `now` into their traces, each trace holding the batch's
   * receipts, and releases the batch's own hold. Returns the traces a bound closed (with
   * `inactivityMs = 0`: every trace the batch touched).
   */
  add(batch: SpanBatch, now: number): TraceGroup[] {
    const { inactivityMs, maxSpansPerTrace, maxOpenTraces, maxHeldSpans } = this.options;
    const out: TraceGroup[] = [];
    const receipts = [...new Set(batch.receipts)];
    const touched = new Map<OpenTrace, Part>();
    const key = receipts.length > 0 ? partitionKey(receipts[0]!.topic, receipts[0]!.partition) : '';
    for (const span of batch.spans) {
      let trace = this.open.get(span.traceId);
      if (trace === undefined) {
        trace = { traceId: span.traceId, parts: new Map(), spanCount: 0, firstAt: now, lastAt: now };
      } else {
        this.open.delete(span.traceId); // re-insert: most recently active last
      }
      this.open.set(span.traceId, trace);
      trace.lastAt = now;
      let part = touched.get(trace);
      if (part === undefined) {
        part = trace.parts.get(key);
        if (part === undefined) {
          part = { spans: [], receipts: [] };
          trace.parts.set(key, part);
        }
        touched.set(trace, part);
        for (const r of receipts) {
          r.retain();
          part.receipts.push(r);
        }
      }
      part.spans.push(span);
      trace.spanCount += 1;
      this.held += 1;
      if (trace.spanCount >= maxSpansPerTrace) {
        this.close(trace, 'max_spans_per_trace', out);
        touched.delete(trace);
      }
    }
    // The traces took their own holds; the batch's hold goes.
    for (const r of batch.receipts) r.release();
    if (inactivityMs === 0) {
      for (const trace of touched.keys()) if (this.open.get(trace.traceId) === trace) this.close(trace, 'batch', out);
    } else {
      while (this.open.size > maxOpenTraces) this.close(this.open.values().next().value!, 'max_open_traces', out);
      while (this.held > maxHeldSpans && this.open.size > 0) this.close(this.open.values().next().value!, 'max_held_spans', out);
      // Holding across batches: let the source fetch on (backpressure bounds intake).
      for (const r of receipts) r.markHeld();
    }
    return out;
  }

  /** Closes the traces inactive for `inactivityMs` or older than `maxAgeMs` at `now`. */
  sweep(now: number): TraceGroup[] {
    const out: TraceGroup[] = [];
    for (const trace of this.open.values()) {
      // Least recently active first: stop at the first trace still active.
      if (trace.lastAt + this.inactivityMs > now) break;
      this.close(trace, 'inactive', out);
    }
    for (const trace of [...this.open.values()]) {
      if (trace.firstAt + this.maxAgeMs <= now) this.close(trace, 'max_age', out);
    }
    return out;
  }

  /** Closes every open trace (the end of the stream). */
  closeAll(): TraceGroup[] {
    const out: TraceGroup[] = [];
    for (const trace of [...this.open.values()]) this.close(trace, 'complete', out);
    return out;
  }

  /**
   * Forgets the spans of partitions not in `keep` (keys `topic\0partition`) and releases their
   * holds (the tracker no longer follows those partitions). Returns how many spans it forgot.
   */
  revoke(keep: ReadonlySet<string>): number {
    let forgotten = 0;
    for (const trace of [...this.open.values()]) {
      for (const [key, part] of trace.parts) {
        if (keep.has(key)) continue;
        trace.parts.delete(key);
        trace.spanCount -= part.spans.length;
        this.held -= part.spans.length;
        forgotten += part.spans.length;
        this.counts.dropped('partition_revoked', part.spans.length);
        for (const r of part.receipts) r.release();
      }
      if (trace.parts.size === 0) this.open.delete(trace.traceId);
    }
    this.options.metrics.openTraces.set(this.open.size);
    return forgotten;
  }

  private close(trace: OpenTrace, reason: TraceGroup['closedBy'], out: TraceGroup[]): void {
    this.open.delete(trace.traceId);
    this.held -= trace.spanCount;
    const spans: Span[] = [];
    const receipts: Receipt[] = [];
    for (const part of trace.parts.values()) {
      for (const s of part.spans) spans.push(s);
      for (const r of part.receipts) receipts.push(r);
    }
    this.options.metrics.tracesClosed.inc({ reason });
    out.push({ traceId: trace.traceId, spans, receipts, closedBy: reason });
  }
}

export interface GroupByTraceOptions {
  metrics: CollectorMetrics;
  scheduler?: SchedulerLike;
}

/** The group stage over `groups`: adds each batch, sweeps on a timer, emits what closed. */
export function groupByTrace(groups: TraceGroups, options: GroupByTraceOptions): OperatorFunction<SpanBatch, TraceBatch> {
  const { metrics } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const counts = metrics.stage('group', 'span');
  const { inactivityMs } = groups;
  return (source) =>
    new Observable<TraceBatch>((subscriber) => {
      let timer: Subscription | undefined;

      const emit = (traces: TraceGroup[], receipts: Receipt[]) => {
        if (traces.length === 0 && receipts.length === 0) return;
        let n = 0;
        for (const t of traces) n += t.spans.length;
        counts.out(n);
        metrics.openTraces.set(groups.size);
        subscriber.next({ traces, receipts });
      };

      const schedule = () => {
        timer?.unsubscribe();
        timer = undefined;
        if (groups.size === 0 || inactivityMs === 0) return;
        const tick = Math.max(50, Math.min(inactivityMs, 1000) / 4);
        timer = scheduler.schedule(() => {
          emit(groups.sweep(scheduler.now()), []);
          schedule();
        }, tick);
      };

      const subscription = source.subscribe({
        next: (batch) => {
          counts.in(batch.spans.length);
          if (batch.spans.length === 0) {
            emit([], batch.receipts);
            return;
          }
          emit(groups.add(batch, scheduler.now()), []);
          if (timer === undefined) schedule();
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          emit(groups.closeAll(), []);
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
