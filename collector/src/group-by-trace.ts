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
 * Rebalance: `revoke(keep)` forgets the spans that came from partitions this member no longer
 * owns; they are neither written nor committed here (the new owner reads them again).
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Span } from '@pintrace/model';
import type { CollectorMetrics } from './metrics.js';
import type { Receipt } from './receipt.js';
import type { SpanBatch, TraceBatch, TraceGroup } from './types.js';

export interface GroupByTraceOptions {
  metrics: CollectorMetrics;
  /** Close a trace after this long without a new span; 0 = group within each batch only. */
  inactivityMs: number;
  /** Close a trace this long after its first span at the latest. Default 10 × inactivityMs, at least 1 s. */
  maxAgeMs?: number;
  maxSpansPerTrace: number;
  maxOpenTraces: number;
  maxHeldSpans: number;
  /** Told how many spans entered (the pipeline's backpressure counts them until written). */
  onSpansIn?: (count: number) => void;
  /** Told how many held spans were forgotten on a revoke. */
  onSpansForgotten?: (count: number) => void;
  scheduler?: SchedulerLike;
}

/** The group stage plus its handle for rebalances. */
export interface TraceGrouper {
  operator: OperatorFunction<SpanBatch, TraceBatch>;
  /** Forgets spans of partitions not in `keep` (keys `topic\0partition`). */
  revoke(keep: ReadonlySet<string>): void;
  /** Open traces now. */
  openTraces(): number;
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

export function groupByTrace(options: GroupByTraceOptions): TraceGrouper {
  const { metrics, inactivityMs, maxSpansPerTrace, maxOpenTraces, maxHeldSpans } = options;
  for (const [name, v] of Object.entries({ maxSpansPerTrace, maxOpenTraces, maxHeldSpans })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`group: ${name} must be an integer >= 1, got ${v}`);
  }
  if (!(inactivityMs >= 0)) throw new RangeError(`group: inactivityMs must be >= 0, got ${inactivityMs}`);
  const maxAgeMs = options.maxAgeMs ?? Math.max(1000, inactivityMs * 10);
  const scheduler = options.scheduler ?? asyncScheduler;
  const counts = metrics.stage('group', 'span');
  /** Insertion order = least recently active first. */
  const open = new Map<string, OpenTrace>();
  let held = 0;

  const setGauges = () => {
    metrics.openTraces.set(open.size);
  };

  const close = (trace: OpenTrace, reason: TraceGroup['closedBy'], out: TraceGroup[]) => {
    open.delete(trace.traceId);
    held -= trace.spanCount;
    const spans: Span[] = [];
    const receipts: Receipt[] = [];
    for (const part of trace.parts.values()) {
      for (const s of part.spans) spans.push(s);
      for (const r of part.receipts) receipts.push(r);
    }
    metrics.tracesClosed.inc({ reason });
    out.push({ traceId: trace.traceId, spans, receipts, closedBy: reason });
  };

  const grouper: TraceGrouper = {
    openTraces: () => open.size,
    revoke(keep) {
      let forgotten = 0;
      for (const trace of [...open.values()]) {
        for (const [key, part] of trace.parts) {
          if (keep.has(key)) continue;
          trace.parts.delete(key);
          trace.spanCount -= part.spans.length;
          held -= part.spans.length;
          forgotten += part.spans.length;
          counts.dropped('partition_revoked', part.spans.length);
          for (const r of part.receipts) r.release(); // the tracker no longer follows that partition
        }
        if (trace.parts.size === 0) open.delete(trace.traceId);
      }
      setGauges();
      if (forgotten > 0) options.onSpansForgotten?.(forgotten);
    },
    operator: (source) =>
      new Observable<TraceBatch>((subscriber) => {
        let timer: Subscription | undefined;

        const emit = (traces: TraceGroup[], receipts: Receipt[]) => {
          if (traces.length === 0 && receipts.length === 0) return;
          let n = 0;
          for (const t of traces) n += t.spans.length;
          counts.out(n);
          setGauges();
          subscriber.next({ traces, receipts });
        };

        const sweep = () => {
          const now = scheduler.now();
          const out: TraceGroup[] = [];
          for (const trace of open.values()) {
            // Least recently active first: stop at the first trace still active.
            if (trace.lastAt + inactivityMs > now) break;
            close(trace, 'inactive', out);
          }
          for (const trace of [...open.values()]) {
            if (trace.firstAt + maxAgeMs <= now) close(trace, 'max_age', out);
          }
          emit(out, []);
          schedule();
        };

        const schedule = () => {
          timer?.unsubscribe();
          timer = undefined;
          if (open.size === 0 || inactivityMs === 0) return;
          const tick = Math.max(50, Math.min(inactivityMs, 1000) / 4);
          timer = scheduler.schedule(sweep, tick);
        };

        const subscription = source.subscribe({
          next: (batch) => {
            counts.in(batch.spans.length);
            options.onSpansIn?.(batch.spans.length);
            const receipts = [...new Set(batch.receipts)];
            if (batch.spans.length === 0) {
              emit([], batch.receipts);
              return;
            }
            const now = scheduler.now();
            const out: TraceGroup[] = [];
            const touched = new Map<OpenTrace, Part>();
            const key = receipts.length > 0 ? partitionKey(receipts[0]!.topic, receipts[0]!.partition) : '';
            for (const span of batch.spans) {
              let trace = open.get(span.traceId);
              if (trace === undefined) {
                trace = { traceId: span.traceId, parts: new Map(), spanCount: 0, firstAt: now, lastAt: now };
              } else {
                open.delete(span.traceId); // re-insert: most recently active last
              }
              open.set(span.traceId, trace);
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
              held += 1;
              if (trace.spanCount >= maxSpansPerTrace) {
                close(trace, 'max_spans_per_trace', out);
                touched.delete(trace);
              }
            }
            // The traces took their own holds; the batch's hold goes.
            for (const r of batch.receipts) r.release();
            if (inactivityMs === 0) {
              for (const trace of touched.keys()) if (open.get(trace.traceId) === trace) close(trace, 'batch', out);
            } else {
              while (open.size > maxOpenTraces) close(open.values().next().value!, 'max_open_traces', out);
              while (held > maxHeldSpans && open.size > 0) close(open.values().next().value!, 'max_held_spans', out);
            }
            // Holding across batches: let the source fetch on (backpressure bounds intake).
            if (inactivityMs > 0) for (const r of receipts) r.markHeld();
            emit(out, []);
            if (timer === undefined) schedule();
          },
          error: (err) => subscriber.error(err),
          complete: () => {
            const out: TraceGroup[] = [];
            for (const trace of [...open.values()]) close(trace, 'complete', out);
            emit(out, []);
            subscriber.complete();
          },
        });
        return () => {
          subscription.unsubscribe();
          timer?.unsubscribe();
        };
      }),
  };
  return grouper;
}
