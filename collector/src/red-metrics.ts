/**
 * The RED windows as Prometheus series on the collector's /metrics, in the collector's prefix:
 *
 *   pintrace_collector_red_calls_total{service,span_name,kind,remote_service}
 *   pintrace_collector_red_errors_total{...}
 *   pintrace_collector_red_duration_seconds_bucket{...,le} / _sum / _count
 *
 * Values are scaled by the inverse sampling probability, so they are not whole numbers; they are
 * added when a window closes, from the same documents that are stored, so a scrape and the store
 * agree. The histogram's `le` are storage's RED bucket bounds in seconds. Series are bounded by the
 * stage's label caps. prom-client's Histogram counts one per observation, hence the small custom
 * metric for the weighted one.
 */
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import { RED_BUCKET_BOUNDS_US, type RedWindowDocument } from '@pintrace/storage';
import type { RedLabel } from './red-windows.js';

const LABELS = ['service', 'span_name', 'kind', 'remote_service'] as const;
type LabelName = (typeof LABELS)[number];

export interface RedMetrics {
  /** Adds closed windows' documents to the series. */
  record(docs: readonly RedWindowDocument[]): void;
  /** Spans whose label (a {@link RedLabel}) was replaced by the overflow label. */
  overflowed: Counter<'label'>;
  openWindows: Gauge;
  docsWritten: Counter;
  docsDropped: Counter<'reason'>;
}

interface Series {
  labels: Record<LabelName, string>;
  cumulative: number[];
  sumSeconds: number;
  count: number;
}

const LE = [...RED_BUCKET_BOUNDS_US.map((us) => String(us / 1e6)), '+Inf'];

export function createRedMetrics(registry: Registry): RedMetrics {
  const registers = [registry];
  const name = (n: string) => `pintrace_collector_red_${n}`;
  const calls = new Counter({
    name: name('calls_total'),
    help: 'Calls per service, span name, kind and remote service, scaled by the inverse sampling rate',
    labelNames: LABELS,
    registers,
  });
  const errors = new Counter({ name: name('errors_total'), help: 'Calls tagged error, scaled like red_calls_total', labelNames: LABELS, registers });
  const series = new Map<string, Series>();
  const durationName = name('duration_seconds');
  const duration = {
    name: durationName,
    help: 'Span durations, scaled like red_calls_total',
    type: 'histogram',
    aggregator: 'sum',
    get: () => {
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
      for (const s of series.values()) {
        s.cumulative.forEach((v, i) => values.push({ metricName: `${durationName}_bucket`, labels: { ...s.labels, le: LE[i]! }, value: v }));
        values.push({ metricName: `${durationName}_sum`, labels: s.labels, value: s.sumSeconds });
        values.push({ metricName: `${durationName}_count`, labels: s.labels, value: s.count });
      }
      return Promise.resolve({ name: durationName, help: duration.help, type: 'histogram', aggregator: 'sum', values });
    },
    reset: () => series.clear(),
  };
  registry.registerMetric(duration as unknown as Metric);
  return {
    record(docs) {
      for (const d of docs) {
        const labels = { service: d.serviceName, span_name: d.spanName, kind: d.kind, remote_service: d.remoteServiceName };
        if (d.calls > 0) calls.inc(labels, d.calls);
        if (d.errors > 0) errors.inc(labels, d.errors);
        const key = `${d.serviceName}\u0000${d.spanName}\u0000${d.kind}\u0000${d.remoteServiceName}`;
        let s = series.get(key);
        if (s === undefined) {
          s = { labels, cumulative: new Array<number>(LE.length).fill(0), sumSeconds: 0, count: 0 };
          series.set(key, s);
        }
        let running = 0;
        for (let i = 0; i < d.buckets.length; i++) {
          running += d.buckets[i]!;
          s.cumulative[i]! += running;
        }
        s.count += running;
        s.sumSeconds += d.durationSumUs / 1e6;
      }
    },
    overflowed: new Counter({
      name: name('overflow_total'),
      help: 'Spans counted under __overflow__ because a label reached its cap, by label',
      labelNames: ['label'],
      registers,
    }),
    openWindows: new Gauge({ name: name('open_windows'), help: 'RED windows aggregating now', registers }),
    docsWritten: new Counter({ name: name('docs_written_total'), help: 'RED window documents written to the store', registers }),
    docsDropped: new Counter({ name: name('docs_dropped_total'), help: 'RED window documents not written, by reason', labelNames: ['reason'], registers }),
  };
}
