/**
 * Grouping and client-side re-checks of query results, as zipkin's GroupByTraceId,
 * StrictTraceId.filterTraces and QueryRequest.test do it.
 */
import type { Span } from '@pintrace/model';
import type { QueryRequest } from './query-request.js';

function lowerTraceId(traceId: string): string {
  return traceId.length === 16 ? traceId : traceId.slice(16);
}

/** Groups spans by trace id in first-seen order (by the low 64 bits unless strict). */
export function groupByTraceId(spans: readonly Span[], strictTraceId: boolean): Span[][] {
  const groups = new Map<string, Span[]>();
  for (const span of spans) {
    const id = strictTraceId ? span.traceId : lowerTraceId(span.traceId);
    const group = groups.get(id);
    if (group === undefined) groups.set(id, [span]);
    else group.push(span);
  }
  return [...groups.values()];
}

/** True when two traces share the low 64 bits of their id. */
export function hasClashOnLowerTraceId(traces: readonly Span[][]): boolean {
  if (traces.length <= 1) return false;
  const seen = new Set<string>();
  for (const trace of traces) {
    const id = lowerTraceId(trace[0]!.traceId);
    if (seen.has(id)) return true;
    seen.add(id);
  }
  return false;
}

/** zipkin's QueryRequest.test: does this whole trace satisfy the request? */
export function traceMatches(request: QueryRequest, spans: readonly Span[]): boolean {
  let timestamp = 0;
  for (const span of spans) {
    const ts = span.timestamp ?? 0;
    if (ts === 0) continue;
    if (span.parentId === undefined) {
      timestamp = ts;
      break;
    }
    if (timestamp === 0 || timestamp > ts) timestamp = ts;
  }
  if (timestamp === 0 || timestamp < (request.endTs - request.lookback) * 1000 || timestamp > request.endTs * 1000) {
    return false;
  }
  const { minDuration, maxDuration } = request;
  let testedDuration = minDuration === undefined && maxDuration === undefined;
  let serviceNameToMatch = request.serviceName;
  let remoteToMatch = request.remoteServiceName;
  let spanNameToMatch = request.spanName;
  const remaining = new Map(request.annotationQuery);
  for (const span of spans) {
    if (request.serviceName !== undefined && request.serviceName !== span.localEndpoint?.serviceName) continue;
    serviceNameToMatch = undefined;
    for (const a of span.annotations ?? []) {
      if (remaining.get(a.value) === '') remaining.delete(a.value);
    }
    for (const [key, value] of Object.entries(span.tags ?? {})) {
      const wanted = remaining.get(key);
      if (wanted === undefined) continue;
      if (wanted === '' || wanted === value) remaining.delete(key);
    }
    if (remoteToMatch !== undefined && remoteToMatch === span.remoteEndpoint?.serviceName) remoteToMatch = undefined;
    if (spanNameToMatch !== undefined && spanNameToMatch === span.name) spanNameToMatch = undefined;
    if (!testedDuration && minDuration !== undefined) {
      const d = span.duration ?? 0;
      testedDuration = maxDuration !== undefined ? d >= minDuration && d <= maxDuration : d >= minDuration;
    }
  }
  return (
    (request.serviceName === undefined || serviceNameToMatch === undefined) &&
    remoteToMatch === undefined &&
    spanNameToMatch === undefined &&
    remaining.size === 0 &&
    testedDuration
  );
}
