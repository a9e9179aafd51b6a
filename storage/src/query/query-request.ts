/**
 * A trace query, validated and normalised as zipkin's QueryRequest.Builder.build() does it.
 *
 * annotationQuery grammar (QueryRequest.Builder.parseAnnotationQuery):
 *   query = term *( " and " term )          split on the literal " and ", at most 100 terms
 *   term  = key "=" value                   tag: key and value trimmed; a later term with the same key wins
 *         / key                             annotation value or tag key (trimmed); never overrides
 * Names are lower-cased (Locale.ROOT); "" means unset; spanName "all" means unset.
 */
import { invalid } from './errors.js';
import { javaSplit, javaTrim } from './java-strings.js';

export interface QueryRequest {
  serviceName?: string;
  remoteServiceName?: string;
  spanName?: string;
  /** Insertion-ordered key → value ("" = bare key). */
  annotationQuery: Map<string, string>;
  /** Microseconds. */
  minDuration?: number;
  maxDuration?: number;
  /** Epoch milliseconds. */
  endTs: number;
  /** Milliseconds. */
  lookback: number;
  limit: number;
}

/** Raw inputs; undefined means "not given". */
export interface QueryRequestInput {
  serviceName?: string | undefined;
  remoteServiceName?: string | undefined;
  spanName?: string | undefined;
  annotationQuery?: string | undefined;
  minDuration?: number | undefined;
  maxDuration?: number | undefined;
  endTs: number;
  lookback: number;
  limit: number;
}

/** Parses an annotationQuery string exactly as zipkin does. */
export function parseAnnotationQuery(annotationQuery: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (annotationQuery === undefined || annotationQuery === '') return map;
  for (const term of javaSplit(annotationQuery, ' and ', 100)) {
    const idx = term.indexOf('=');
    if (idx === -1) {
      const key = javaTrim(term);
      if (!map.has(key)) map.set(key, '');
    } else {
      map.set(javaTrim(term.slice(0, idx)), javaTrim(term.slice(idx + 1)));
    }
  }
  return map;
}

/** The annotationQuery as zipkin prints it back (QueryRequest.annotationQueryString). */
export function annotationQueryString(map: ReadonlyMap<string, string>): string | undefined {
  const parts: string[] = [];
  for (const [key, value] of map) {
    if (key === '') continue;
    parts.push(value === '' ? key : `${key}=${value}`);
  }
  return parts.length > 0 ? parts.join(' and ') : undefined;
}

function lowerOrUnset(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  return lower === '' ? undefined : lower;
}

/** Builds and validates a request; throws QueryError QUERY_INVALID with zipkin's message. */
export function buildQueryRequest(input: QueryRequestInput): QueryRequest {
  const serviceName = lowerOrUnset(input.serviceName);
  const remoteServiceName = lowerOrUnset(input.remoteServiceName);
  let spanName = lowerOrUnset(input.spanName);
  if (spanName === 'all') spanName = undefined;
  const annotationQuery = parseAnnotationQuery(input.annotationQuery);

  if (input.endTs <= 0) throw invalid('endTs <= 0');
  if (input.limit <= 0) throw invalid('limit <= 0');
  if (input.lookback <= 0) throw invalid('lookback <= 0');
  if (input.minDuration !== undefined) {
    if (input.minDuration <= 0) throw invalid('minDuration <= 0');
    if (input.maxDuration !== undefined && input.maxDuration < input.minDuration) {
      throw invalid('maxDuration < minDuration');
    }
  } else if (input.maxDuration !== undefined) {
    throw invalid('maxDuration is only valid with minDuration');
  }
  const request: QueryRequest = {
    annotationQuery,
    endTs: input.endTs,
    lookback: input.lookback,
    limit: input.limit,
  };
  if (serviceName !== undefined) request.serviceName = serviceName;
  if (remoteServiceName !== undefined) request.remoteServiceName = remoteServiceName;
  if (spanName !== undefined) request.spanName = spanName;
  if (input.minDuration !== undefined) request.minDuration = input.minDuration;
  if (input.maxDuration !== undefined) request.maxDuration = input.maxDuration;
  return request;
}
