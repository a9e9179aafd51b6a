/**
 * Zipkin API v2 (GET side) with zipkin-server 3.6's semantics (ZipkinQueryApiV2): the same
 * parameters, validation messages, status codes, sorted name lists and Cache-Control rules.
 * What we add, always as a bound and never as a different answer for ordinary queries:
 * lookback is shortened to `maxLookback`, `limit` to 10000 (one search returns at most 10000
 * spans anyway), `endTs` must be a representable date, and traces are cut at `maxSpansPerTrace`.
 */
import type { Span } from '@pintrace/model';
import {
  buildQueryRequest,
  javaTrim,
  normalizeQueryTraceId,
  parseTraceIdList,
  QueryError,
  type ElasticsearchRedWindowStore,
  type ElasticsearchSpanStore,
} from '@pintrace/storage';
import type { Params } from './params.js';
import { redSeries, redServiceNames, redSpanNames } from './red-api.js';
import { json, text, type Reply } from './reply.js';
import { capTrace } from './truncate.js';
import { encodeDependencyLinks, encodeNames, encodeTrace, encodeTraces } from './zipkin-json.js';

/** Largest epoch millisecond a Date (and an index name) can hold. */
const MAX_DATE_MS = 8_640_000_000_000_000;
const MAX_LIMIT = 10_000;

export interface ZipkinApiOptions {
  store: ElasticsearchSpanStore;
  /** The collector's RED windows, for `pintrace/red` (ours, not Zipkin's). */
  red?: Pick<ElasticsearchRedWindowStore, 'query' | 'serviceNames' | 'spanNames'>;
  /** QUERY_LOOKBACK: default lookback of /traces and /dependencies. */
  defaultLookback: number;
  maxLookback: number;
  maxSpansPerTrace: number;
  /** AUTOCOMPLETE_KEYS as configured (answered without reading Elasticsearch). */
  autocompleteKeys: readonly string[];
  /** zipkin.query.names-max-age. Default 300 s. */
  namesMaxAgeSeconds?: number;
  now?: () => number;
  /** Called once per trace cut by the span cap. */
  onTruncated?: () => void;
}

export const API_ROUTES = [
  'services',
  'spans',
  'remoteServices',
  'traces',
  'trace',
  'traceMany',
  'dependencies',
  'autocompleteKeys',
  'autocompleteValues',
  'pintrace/red',
  'pintrace/red/services',
  'pintrace/red/spans',
] as const;

function invalid(message: string): QueryError {
  return new QueryError('QUERY_INVALID', message);
}

export class ZipkinApi {
  private readonly options: ZipkinApiOptions;
  private readonly now: () => number;
  /** Services seen by the last /services call: above 3, name lists get Cache-Control. */
  private serviceCount = 0;

  constructor(options: ZipkinApiOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /**
   * Answers `GET <api>/<route>`; `route` is the path after "/api/v2/", already percent-decoded.
   * Returns undefined for an unknown route. Throws QueryError/StorageError for the server to map.
   */
  async get(route: string, params: Params): Promise<Reply | undefined> {
    const { store } = this.options;
    switch (route) {
      case 'services': {
        const names = await store.getServiceNames();
        this.serviceCount = names.length;
        return this.names(names, this.serviceCount > 3);
      }
      case 'spans':
        return this.names(await store.getSpanNames(params.requiredString('serviceName')), this.serviceCount > 3);
      case 'remoteServices':
        return this.names(await store.getRemoteServiceNames(params.requiredString('serviceName')), this.serviceCount > 3);
      case 'traces':
        return this.traces(params);
      case 'traceMany': {
        const ids = parseTraceIdList(params.requiredString('traceIds'));
        return json(encodeTraces(this.cap(await store.getTracesByIds(ids))));
      }
      case 'dependencies':
        return this.dependencies(params);
      case 'pintrace/red':
      case 'pintrace/red/services':
      case 'pintrace/red/spans': {
        if (this.options.red === undefined) return undefined;
        const options = { store: this.options.red, defaultLookback: this.options.defaultLookback, maxLookback: this.options.maxLookback, now: this.now };
        if (route === 'pintrace/red') return redSeries(params, options);
        return route === 'pintrace/red/services' ? redServiceNames(params, options) : redSpanNames(params, options);
      }
      case 'autocompleteKeys':
        return this.names(this.options.autocompleteKeys, true);
      case 'autocompleteValues': {
        const values = await store.getAutocompleteValues(params.requiredString('key'));
        return this.names(values, values.length > 3);
      }
      default:
        if (route.startsWith('trace/') && route.length > 'trace/'.length && !route.slice(6).includes('/')) {
          return this.trace(route.slice(6));
        }
        return undefined;
    }
  }

  private async traces(params: Params): Promise<Reply> {
    // Converted in zipkin's parameter order, so the first bad one is the one reported.
    const minDuration = params.optionalLong('minDuration');
    const maxDuration = params.optionalLong('maxDuration');
    const endTs = params.optionalLong('endTs');
    const lookback = params.optionalLong('lookback');
    const limit = params.intWithDefault('limit', 10);
    const request = buildQueryRequest({
      serviceName: params.optionalString('serviceName'),
      remoteServiceName: params.optionalString('remoteServiceName'),
      spanName: params.optionalString('spanName'),
      annotationQuery: params.optionalString('annotationQuery'),
      minDuration,
      maxDuration,
      endTs: endTs ?? this.now(),
      lookback: lookback ?? this.options.defaultLookback,
      limit,
    });
    if (request.endTs > MAX_DATE_MS) throw invalid(`endTs > ${MAX_DATE_MS}`);
    request.lookback = Math.min(request.lookback, this.options.maxLookback);
    request.limit = Math.min(request.limit, MAX_LIMIT);
    if (request.minDuration !== undefined) request.minDuration = Math.min(request.minDuration, Number.MAX_SAFE_INTEGER);
    if (request.maxDuration !== undefined) request.maxDuration = Math.min(request.maxDuration, Number.MAX_SAFE_INTEGER);
    return json(encodeTraces(this.cap(await this.options.store.getTraces(request))));
  }

  private async trace(rawId: string): Promise<Reply> {
    const id = normalizeQueryTraceId(javaTrim(rawId));
    const spans = await this.options.store.getTrace(id);
    if (spans.length === 0) return text(404, `${id} not found`);
    return json(encodeTrace(this.cap([spans])[0]!));
  }

  private async dependencies(params: Params): Promise<Reply> {
    const endTs = params.requiredLong('endTs');
    const lookback = params.optionalLong('lookback') ?? this.options.defaultLookback;
    if (endTs <= 0) throw invalid('endTs <= 0');
    if (lookback <= 0) throw invalid('lookback <= 0');
    if (endTs > MAX_DATE_MS) throw invalid(`endTs > ${MAX_DATE_MS}`);
    const links = await this.options.store.getDependencies(endTs, Math.min(lookback, this.options.maxLookback));
    return json(encodeDependencyLinks(links));
  }

  private names(values: readonly string[], cache: boolean): Reply {
    const maxAge = this.options.namesMaxAgeSeconds ?? 300;
    return json(encodeNames(values), cache ? { 'cache-control': `max-age=${maxAge}, must-revalidate` } : {});
  }

  private cap(traces: Span[][]): Span[][] {
    const max = this.options.maxSpansPerTrace;
    return traces.map((trace) => {
      const capped = capTrace(trace, max);
      if (capped.truncated) this.options.onTruncated?.();
      return capped.spans;
    });
  }
}
