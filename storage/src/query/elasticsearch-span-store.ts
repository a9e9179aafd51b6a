/**
 * The read side of zipkin's Elasticsearch storage: the same searches zipkin-server 3.6 sends
 * (ElasticsearchSpanStore, ElasticsearchAutocompleteTags), so the same data gives the same answers.
 *
 * - getTraces: aggregation over `timestamp_millis` window + filters → trace ids ordered by their
 *   newest matching span, then one `terms traceId` hits search on the same day indices.
 * - getTrace / getTraces(ids): `term`/`terms traceId` over every span index, no time bound.
 * - names: `terms` aggregations over the last `namesLookbackMs`.
 * - dependencies: all link documents of the days in the window, merged.
 */
import type { DependencyLink, Span } from '@pintrace/model';
import { StorageError } from '../errors.js';
import type { EsHttp } from '../http.js';
import { IndexNameFormatter } from '../index-names.js';
import { mergeDependencyLinks, parseDependencyHits } from './dependency-links.js';
import { invalid } from './errors.js';
import type { QueryRequest } from './query-request.js';
import { ALL_TERMS, aggregationSearch, hitsSearch, range, searchPath, term, terms, type Clause, type SearchBody } from './search-body.js';
import { collectKeys, parseSpanHits } from './search-results.js';
import { groupByTraceId, hasClashOnLowerTraceId, traceMatches } from './trace-groups.js';

/** zipkin's EARLIEST_MS: no index is read before March 2016. */
export const EARLIEST_MS = 1_456_790_400_000;

export interface ElasticsearchSpanStoreOptions {
  http: EsHttp;
  /** ES_INDEX. Default "zipkin". */
  index?: string;
  /** ES_DATE_SEPARATOR. Default "-". */
  dateSeparator?: string;
  /** STRICT_TRACE_ID. Default true. */
  strictTraceId?: boolean;
  /** SEARCH_ENABLED. Default true. */
  searchEnabled?: boolean;
  /** QUERY_LOOKBACK, the window of the name lists. Default 86400000. */
  namesLookbackMs?: number;
  /** AUTOCOMPLETE_KEYS. Default none (autocompleteValues then answers []). */
  autocompleteKeys?: readonly string[];
  /** Clock, for tests. */
  now?: () => number;
  /** Called with the number of span documents that could not be read as spans. */
  onSkippedDocuments?: (count: number) => void;
}

export class ElasticsearchSpanStore {
  readonly names: IndexNameFormatter;
  readonly strictTraceId: boolean;
  readonly searchEnabled: boolean;
  readonly namesLookbackMs: number;
  readonly autocompleteKeys: readonly string[];
  private readonly http: EsHttp;
  private readonly now: () => number;
  private readonly onSkipped: (count: number) => void;

  constructor(options: ElasticsearchSpanStoreOptions) {
    this.http = options.http;
    this.names = new IndexNameFormatter(options);
    this.strictTraceId = options.strictTraceId ?? true;
    this.searchEnabled = options.searchEnabled ?? true;
    this.namesLookbackMs = options.namesLookbackMs ?? 86_400_000;
    this.autocompleteKeys = [...(options.autocompleteKeys ?? [])];
    this.now = options.now ?? Date.now;
    this.onSkipped = options.onSkippedDocuments ?? (() => undefined);
    if (!Number.isSafeInteger(this.namesLookbackMs) || this.namesLookbackMs <= 0) {
      throw new StorageError('STORAGE_CONFIG_INVALID', `namesLookbackMs must be a whole number > 0, was ${this.namesLookbackMs}`);
    }
  }

  /** Traces matching a validated request, newest first as zipkin orders them. */
  async getTraces(request: QueryRequest): Promise<Span[][]> {
    if (!this.searchEnabled) return [];
    const end = request.endTs;
    const begin = Math.max(end - request.lookback, EARLIEST_MS);
    const filters: Clause[] = [range('timestamp_millis', begin, end)];
    if (request.serviceName !== undefined) filters.push(term('localEndpoint.serviceName', request.serviceName));
    if (request.remoteServiceName !== undefined) filters.push(term('remoteEndpoint.serviceName', request.remoteServiceName));
    if (request.spanName !== undefined) filters.push(term('name', request.spanName));
    for (const [key, value] of request.annotationQuery) {
      filters.push(term('_q', value === '' ? key : `${key}=${value}`));
    }
    if (request.minDuration !== undefined) filters.push(range('duration', request.minDuration, request.maxDuration));
    const indices = this.names.formatTypeAndRange('span', begin, end);
    if (indices.length === 0) return [];
    const ids = collectKeys(
      await this.search(indices, aggregationSearch(filters, [{ field: 'traceId', size: request.limit, orderByMinDesc: 'timestamp_millis' }])),
    );
    if (ids.length === 0) return [];
    const traces = groupByTraceId(this.spans(await this.search(indices, hitsSearch(terms('traceId', ids)))), this.strictTraceId);
    if (this.strictTraceId && hasClashOnLowerTraceId(traces)) return traces.filter((t) => traceMatches(request, t));
    return traces;
  }

  /** Spans of one trace (a normalised id), in index order; [] when unknown. */
  async getTrace(traceId: string): Promise<Span[]> {
    const id = !this.strictTraceId && traceId.length === 32 ? traceId.slice(16) : traceId;
    return this.spans(await this.search([this.names.formatType('span')], hitsSearch(term('traceId', id))));
  }

  /** Traces of several normalised ids (traceMany); absent ids are left out. */
  async getTracesByIds(traceIds: readonly string[]): Promise<Span[][]> {
    const ids = new Set(traceIds.map((id) => (!this.strictTraceId && id.length === 32 ? id.slice(16) : id)));
    if (ids.size === 0) return [];
    const body = hitsSearch(terms('traceId', [...ids]));
    return groupByTraceId(this.spans(await this.search([this.names.formatType('span')], body)), this.strictTraceId);
  }

  /** Local service names seen in the names window (unsorted). */
  async getServiceNames(): Promise<string[]> {
    if (!this.searchEnabled) return [];
    const end = this.now();
    const begin = end - this.namesLookbackMs;
    const indices = this.names.formatTypeAndRange('span', begin, end);
    if (indices.length === 0) return [];
    return collectKeys(
      await this.search(indices, aggregationSearch([range('timestamp_millis', begin, end)], [{ field: 'localEndpoint.serviceName', size: ALL_TERMS }])),
    );
  }

  /** Span names of a local service (unsorted); "" gives []. */
  getSpanNames(serviceName: string): Promise<string[]> {
    return this.byServiceName(serviceName, 'name');
  }

  /** Remote service names called by a local service (unsorted); "" gives []. */
  getRemoteServiceNames(serviceName: string): Promise<string[]> {
    return this.byServiceName(serviceName, 'remoteEndpoint.serviceName');
  }

  /** Values of an autocomplete key in the names window; throws QUERY_INVALID on "". */
  async getAutocompleteValues(key: string): Promise<string[]> {
    if (key === '') throw invalid('key was empty');
    if (!this.searchEnabled || this.autocompleteKeys.length === 0) return [];
    const end = this.now();
    const indices = this.names.formatTypeAndRange('autocomplete', end - this.namesLookbackMs, end);
    if (indices.length === 0) return [];
    return collectKeys(await this.search(indices, aggregationSearch([term('tagKey', key)], [{ field: 'tagValue', size: ALL_TERMS }])));
  }

  /** Links of the days in [endTs - lookback, endTs], merged. */
  async getDependencies(endTs: number, lookback: number): Promise<DependencyLink[]> {
    if (endTs <= 0) throw invalid('endTs <= 0');
    if (lookback <= 0) throw invalid('lookback <= 0');
    const begin = Math.max(endTs - lookback, EARLIEST_MS);
    const indices = this.names.formatTypeAndRange('dependency', begin, endTs);
    if (indices.length === 0) return [];
    // zipkin sends a body with only "size": every link document of those days.
    return mergeDependencyLinks(parseDependencyHits(await this.search(indices, { size: 10_000 })));
  }

  private async byServiceName(serviceName: string, field: string): Promise<string[]> {
    if (serviceName === '' || !this.searchEnabled) return [];
    const end = this.now();
    const begin = end - this.namesLookbackMs;
    const indices = this.names.formatTypeAndRange('span', begin, end);
    if (indices.length === 0) return [];
    return collectKeys(
      await this.search(
        indices,
        aggregationSearch([range('timestamp_millis', begin, end), term('localEndpoint.serviceName', serviceName.toLowerCase())], [{ field, size: ALL_TERMS }]),
      ),
    );
  }

  private spans(body: unknown): Span[] {
    const { spans, skipped } = parseSpanHits(body);
    if (skipped > 0) this.onSkipped(skipped);
    return spans;
  }

  private async search(indices: readonly string[], body: SearchBody): Promise<unknown> {
    const res = await this.http.request({ method: 'POST', path: searchPath(indices), body: JSON.stringify(body) });
    if (res.status >= 200 && res.status < 300) return res.body;
    throw new StorageError('ES_HTTP_ERROR', `search failed: ${esReason(res.body) ?? `HTTP ${res.status}`}`, {
      status: res.status,
      retryable: res.status === 429 || res.status >= 500,
    });
  }
}

/** The root-cause reason of an Elasticsearch error body, as zipkin's maybeRootCauseReason. */
function esReason(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return typeof body === 'string' && body !== '' ? body.slice(0, 500) : undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'string') return error;
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { root_cause?: Array<{ reason?: unknown }>; reason?: unknown };
  const root = Array.isArray(e.root_cause) ? e.root_cause[0]?.reason : undefined;
  const reason = typeof root === 'string' ? root : e.reason;
  return typeof reason === 'string' ? reason : undefined;
}
