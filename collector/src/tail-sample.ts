/**
 * Stage `tail_sample` (optional): decides per trace, once its group closed, whether to keep it.
 * Kept: traces with an `error` tag, with `debug` set, or lasting at least `latencyThresholdUs`
 * (from the earliest start to the latest end of its spans), plus a `rate` share of the rest,
 * chosen by trace ID as zipkin's CollectorSampler does (|low 64 bits as a signed long| <=
 * Long.MAX_VALUE * rate), so every collector instance decides alike.
 *
 * Late spans of a decided trace (a group closed, then more spans arrived) follow the decision,
 * remembered in a bounded cache of the most recent `decisionCacheSize` trace IDs. A dropped
 * trace's receipts are released (dropped on purpose, so committed) and counted by reason.
 */
import { map, type OperatorFunction } from 'rxjs';
import type { CollectorMetrics } from './metrics.js';
import type { TraceBatch, TraceGroup } from './types.js';

export interface TailSampleOptions {
  metrics: CollectorMetrics;
  /** Share of the other traces kept, 0..1. */
  rate: number;
  /** Keep traces at least this long (µs); undefined = no latency rule. */
  latencyThresholdUs?: number;
  /** Default 100000 trace IDs. */
  decisionCacheSize?: number;
  /** Told how many spans were dropped (they leave the backpressure count). */
  onSpansDropped?: (count: number) => void;
}

export type TailDecision = 'error' | 'debug' | 'slow' | 'sampled' | 'sampled_out';

const MAX_LONG = (1n << 63n) - 1n;

/** zipkin CollectorSampler's rule on the low 64 bits of the trace ID. */
export function keepByTraceId(traceId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  let low = BigInt.asIntN(64, BigInt(`0x${traceId.slice(-16)}`));
  if (low === -(1n << 63n)) low = MAX_LONG;
  if (low < 0n) low = -low;
  const bound = BigInt(Math.floor(Number(MAX_LONG) * rate));
  return low <= (bound > MAX_LONG ? MAX_LONG : bound);
}

export function decide(trace: TraceGroup, rate: number, latencyThresholdUs?: number): TailDecision {
  let start = Infinity;
  let end = -Infinity;
  for (const span of trace.spans) {
    if (span.tags !== undefined && Object.hasOwn(span.tags, 'error')) return 'error';
    if (span.debug === true) return 'debug';
    if (span.timestamp !== undefined) {
      start = Math.min(start, span.timestamp);
      end = Math.max(end, span.timestamp + (span.duration ?? 0));
    }
  }
  if (latencyThresholdUs !== undefined && end - start >= latencyThresholdUs) return 'slow';
  return keepByTraceId(trace.traceId, rate) ? 'sampled' : 'sampled_out';
}

export function tailSample(options: TailSampleOptions): OperatorFunction<TraceBatch, TraceBatch> {
  const { metrics, rate, latencyThresholdUs } = options;
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`tail sampling rate must be within 0..1, got ${rate}`);
  const cacheSize = options.decisionCacheSize ?? 100_000;
  const counts = metrics.stage('tail_sample', 'span');
  const decisions = new Map<string, boolean>();
  const remember = (traceId: string, keep: boolean) => {
    decisions.delete(traceId);
    decisions.set(traceId, keep);
    if (decisions.size > cacheSize) decisions.delete(decisions.keys().next().value!);
  };
  return map((batch: TraceBatch): TraceBatch => {
    const kept: TraceGroup[] = [];
    let dropped = 0;
    for (const trace of batch.traces) {
      counts.in(trace.spans.length);
      const earlier = decisions.get(trace.traceId);
      let keep: boolean;
      let reason: string;
      if (earlier !== undefined) {
        keep = earlier;
        reason = 'earlier_decision';
      } else {
        const decision = decide(trace, rate, latencyThresholdUs);
        keep = decision !== 'sampled_out';
        reason = decision;
        remember(trace.traceId, keep);
      }
      if (keep) {
        kept.push(trace);
        counts.out(trace.spans.length);
      } else {
        counts.dropped(reason, trace.spans.length);
        dropped += trace.spans.length;
        for (const r of trace.receipts) r.release();
      }
    }
    if (dropped > 0) options.onSpansDropped?.(dropped);
    return { traces: kept, receipts: batch.receipts };
  });
}
