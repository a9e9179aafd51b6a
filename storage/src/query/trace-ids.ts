/**
 * Trace ids from a request, checked as zipkin's Span.normalizeTraceId: 1-32 lower-hex, not all
 * zeros, padded to 16 or 32; failures carry zipkin's exact message.
 *
 * traceIds list (the traceMany parameter) = id *( "," id ), split like Java's split(",", 1000).
 */
import { normalizeTraceId } from '@pintrace/model';
import { invalid } from './errors.js';
import { javaSplit } from './java-strings.js';

/** Normalises one trace id or throws QueryError QUERY_INVALID. */
export function normalizeQueryTraceId(traceId: string): string {
  const result = normalizeTraceId(traceId);
  if (!result.ok) throw invalid(result.message);
  return result.id;
}

/**
 * Parses the traceMany list with zipkin-server's checks and messages: empty list, a bad id,
 * a repeated id ("redundant traceId: <as given>"), or a single id.
 */
export function parseTraceIdList(traceIds: string): string[] {
  if (traceIds === '') throw invalid('traceIds parameter is empty');
  const normalized = new Set<string>();
  for (const raw of javaSplit(traceIds, ',', 1000)) {
    const id = normalizeQueryTraceId(raw);
    if (normalized.has(id)) throw invalid(`redundant traceId: ${raw}`);
    normalized.add(id);
  }
  if (normalized.size === 1) throw invalid('Use /api/v2/trace/{traceId} endpoint to retrieve a single trace');
  return [...normalized];
}
