/**
 * Elasticsearch search bodies shaped as zipkin's SearchRequest/Aggregation serialise them.
 * Only `term`, `terms`, `range` and aggregations are ever built, and every user value is a JSON
 * string or number inside them (JSON.stringify), so nothing from a caller is query syntax.
 *
 *   hits search  = {"size":10000,"query":{"bool":{"filter":<clause>}}}
 *   aggs search  = {"_source":false,"query":...,"aggs":{<field>:{"terms":{"field","size"[,"order"]}[,"aggs"]}}}
 *   filters      = {"bool":{"must":[clause,...]}}
 *   range clause = {"range":{<field>:{"gte":a[,"lte":b]}}}
 */

/** zipkin's SearchRequest.MAX_RESULT_WINDOW (ES index.max_result_window default). */
export const MAX_RESULT_WINDOW = 10_000;
/** Integer.MAX_VALUE: the terms size zipkin uses for name lists. */
export const ALL_TERMS = 2_147_483_647;

export type Clause = { term: Record<string, string> } | { terms: Record<string, string[]> } | { range: Record<string, { gte: number; lte?: number }> };

export function term(field: string, value: string): Clause {
  return { term: { [field]: value } };
}

export function terms(field: string, values: readonly string[]): Clause {
  return { terms: { [field]: [...values] } };
}

export function range(field: string, gte: number, lte?: number): Clause {
  return { range: { [field]: lte === undefined ? { gte } : { gte, lte } } };
}

export interface TermsAggregation {
  field: string;
  size: number;
  /** Order by a min sub-aggregation on this field, descending (the traceId aggregation). */
  orderByMinDesc?: string;
}

export interface SearchBody {
  size?: number;
  _source?: false;
  query?: unknown;
  aggs?: Record<string, unknown>;
}

function aggregation(agg: TermsAggregation): unknown {
  const termsBody: Record<string, unknown> = { field: agg.field, size: agg.size };
  if (agg.orderByMinDesc === undefined) return { terms: termsBody };
  termsBody.order = { [agg.orderByMinDesc]: 'desc' };
  return {
    terms: termsBody,
    aggs: { [agg.orderByMinDesc]: { min: { field: agg.orderByMinDesc } } },
  };
}

/** A search for documents (hits) matching one clause. */
export function hitsSearch(clause: Clause): SearchBody {
  return { size: MAX_RESULT_WINDOW, query: { bool: { filter: clause } } };
}

/** A search returning only aggregation buckets, filtered by all `filters` (AND). */
export function aggregationSearch(filters: readonly Clause[], aggs: readonly TermsAggregation[]): SearchBody {
  const body: SearchBody = { _source: false };
  if (filters.length > 0) body.query = { bool: { filter: { bool: { must: [...filters] } } } };
  body.aggs = Object.fromEntries(aggs.map((a) => [a.field, aggregation(a)]));
  return body;
}

/** `POST /<indices>/_search` path with zipkin's lenient index options. */
export function searchPath(indices: readonly string[]): string {
  const names = indices.map((i) => encodeURIComponent(i).replace(/%2A/g, '*')).join(',');
  return `/${names}/_search?allow_no_indices=true&expand_wildcards=open&ignore_unavailable=true`;
}
