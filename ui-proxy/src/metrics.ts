/** Prometheus metrics of the ui-proxy (pintrace_ui_*), beside Node's process metrics. */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface UiMetrics {
  /** Requests by route (api route name, "ui", "metrics", "health", "other") and status code. */
  requests: Counter<'route' | 'status'>;
  /** Seconds per API query, by route. */
  querySeconds: Histogram<'route'>;
  /** Requests refused for missing or wrong credentials. */
  authFailures: Counter;
  /** Traces cut at the span cap. */
  tracesTruncated: Counter;
  /** Spans accepted by POST /api/v2/spans and sent to Kafka. */
  spansAccepted: Counter;
  /** Span documents in Elasticsearch that could not be read as spans (skipped). */
  unreadableDocuments: Counter;
}

export function createUiMetrics(registry: Registry): UiMetrics {
  return {
    requests: new Counter({
      name: 'pintrace_ui_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    querySeconds: new Histogram({
      name: 'pintrace_ui_query_seconds',
      help: 'API query latency by route',
      labelNames: ['route'],
      registers: [registry],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    authFailures: new Counter({ name: 'pintrace_ui_auth_failures_total', help: 'Requests refused for missing or wrong credentials', registers: [registry] }),
    tracesTruncated: new Counter({ name: 'pintrace_ui_traces_truncated_total', help: 'Traces cut at --max-spans-per-trace', registers: [registry] }),
    spansAccepted: new Counter({ name: 'pintrace_ui_spans_accepted_total', help: 'Spans accepted by POST /api/v2/spans', registers: [registry] }),
    unreadableDocuments: new Counter({
      name: 'pintrace_ui_unreadable_documents_total',
      help: 'Span documents skipped because they are not valid spans',
      registers: [registry],
    }),
  };
}
