/**
 * RED windows in the store, beside Zipkin's indices: daily indices `<index><delim>red-<yyyy-MM-dd>`
 * (the day of the window's start) holding one document per (collector, window, flush, key):
 *
 *   {"timestamp_millis":W,"windowMs":10000,"collector":"c","flush":0,"serviceName":"..","spanName":"..",
 *    "kind":"SERVER","remoteServiceName":"..","calls":N,"errors":N,"durationSumUs":N,"buckets":[..]}
 *
 * Why sums over documents are exact: every span is aggregated by exactly one collector of the
 * group (the one that owns its Kafka partition) into exactly one flush of one window, and each
 * flush is written once under the `_id` `<collector>|<window>|<flush>|<key>`; a retried bulk
 * overwrites the same document. So any set of collectors adds up to the same totals, and
 * readers just add every matching document (calls, errors and the buckets, bucket by bucket).
 * Nothing is ever read-modify-written, so collectors need no coordination.
 *
 * Writes retry 429, 5xx and network failures with backoff until they succeed or `shutdown()`.
 */
import { createHash } from 'node:crypto';
import { bulkBody, bulkOutcomes, isRetryableItem, type BulkItem } from './bulk-request.js';
import { backoffDelayMs, InterruptibleSleeps } from './backoff.js';
import { StorageError, isRetryable, isRetryableStatus } from './errors.js';
import type { EsHttp } from './http.js';
import { IndexNameFormatter } from './index-names.js';
import { addCounts, RED_BUCKET_BOUNDS_US } from './red-histogram.js';
import { assertSupported, indexTypeDelimiter, parseClusterVersion, supportsTypes, type ClusterVersion } from './version.js';

/** One collector's aggregate of one key in one flush of one window. */
export interface RedWindowDocument {
  /** Window start, epoch ms. */
  timestamp_millis: number;
  windowMs: number;
  /** Which collector process wrote it; part of the `_id`. */
  collector: string;
  /** 0 for the window's first flush; later flushes carry spans that arrived late. */
  flush: number;
  serviceName: string;
  spanName: string;
  /** Zipkin kind, or "" when the span has none. */
  kind: string;
  remoteServiceName: string;
  /** Scaled by the inverse of each span's sampling probability. */
  calls: number;
  errors: number;
  durationSumUs: number;
  /** Scaled counts per bucket of {@link RED_BUCKET_BOUNDS_US}, +Inf last. */
  buckets: number[];
}

/** Sums over windows, one per step. */
export interface RedStep {
  /** Step start, epoch ms. */
  timestamp: number;
  calls: number;
  errors: number;
  buckets: number[];
}

export interface RedWindowStoreOptions {
  http: EsHttp;
  index?: string;
  dateSeparator?: string;
  version?: ClusterVersion;
  initialDelayMs?: number;
  maxDelayMs?: number;
  onRetry?: (cause: string, attempt: number) => void;
}

/** The most window documents one query reads (per request; larger ranges page). */
const PAGE = 10_000;

export class ElasticsearchRedWindowStore {
  private readonly names: IndexNameFormatter;
  private version: ClusterVersion | undefined;
  private closed = false;
  private readonly sleeps = new InterruptibleSleeps();

  constructor(private readonly options: RedWindowStoreOptions) {
    this.names = new IndexNameFormatter({
      ...(options.index !== undefined ? { index: options.index } : {}),
      ...(options.dateSeparator !== undefined ? { dateSeparator: options.dateSeparator } : {}),
    });
    this.version = options.version;
  }

  static documentId(d: Pick<RedWindowDocument, 'collector' | 'timestamp_millis' | 'flush' | 'serviceName' | 'spanName' | 'kind' | 'remoteServiceName'>): string {
    const id = `${d.collector}|${d.timestamp_millis}|${d.flush}|${d.serviceName}|${d.spanName}|${d.kind}|${d.remoteServiceName}`;
    // an _id is at most 512 bytes: a longer one keeps its start and ends in a digest of the whole
    if (Buffer.byteLength(id, 'utf8') <= 512) return id;
    return `${Buffer.from(id, 'utf8').subarray(0, 400).toString('utf8')}#${createHash('sha256').update(id).digest('hex')}`;
  }

  /** Writes the documents; resolves once every one is durable. */
  async write(docs: readonly RedWindowDocument[]): Promise<void> {
    if (docs.length === 0) return;
    const version = await this.retrying(() => this.clusterVersion());
    const delimiter = indexTypeDelimiter(version);
    let pending: BulkItem[] = docs.map((d) => ({
      index: this.names.formatTypeAndTimestampForInsert('red', delimiter, d.timestamp_millis),
      type: 'red',
      id: ElasticsearchRedWindowStore.documentId(d),
      body: JSON.stringify(d),
    }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      let cause: string;
      try {
        const res = await this.options.http.request({ method: 'POST', path: '/_bulk', body: bulkBody(pending, supportsTypes(version)), ndjson: true });
        if (res.status >= 200 && res.status < 300) {
          const outcomes = bulkOutcomes(res.body, pending.length);
          if (outcomes === undefined) {
            cause = 'malformed_bulk_response';
          } else {
            const retry: BulkItem[] = [];
            outcomes.forEach((o, i) => {
              if (o.status >= 200 && o.status < 300) return;
              if (isRetryableItem(o)) {
                retry.push(pending[i]!);
                return;
              }
              throw new StorageError('ES_HTTP_ERROR', `RED window document ${pending[i]!.id} refused: ${o.errorType ?? o.status} ${o.errorReason ?? ''}`, { status: o.status });
            });
            pending = retry;
            if (pending.length === 0) return;
            cause = 'item_rejected';
          }
        } else if (isRetryableStatus(res.status) || res.status >= 500) {
          cause = String(res.status);
        } else {
          throw new StorageError('ES_HTTP_ERROR', `RED window bulk answered ${res.status}`, { status: res.status });
        }
      } catch (err) {
        if (!isRetryable(err)) throw err;
        cause = (err as StorageError).code;
      }
      await this.backoff(attempt, cause);
    }
  }

  /**
   * Windows of `serviceName` (and `spanName`, else every span name) starting in
   * [endTs - lookback, endTs), summed per step of `stepMs` aligned to `endTs`: one entry per step,
   * oldest first, empty steps included.
   */
  async query(input: { serviceName: string; spanName?: string; endTs: number; lookback: number; stepMs: number }): Promise<RedStep[]> {
    const { serviceName, spanName, endTs, lookback, stepMs } = input;
    const begin = endTs - lookback;
    const stepCount = Math.max(1, Math.ceil(lookback / stepMs));
    const steps: RedStep[] = [];
    for (let i = 0; i < stepCount; i++) {
      steps.push({ timestamp: endTs - (stepCount - i) * stepMs, calls: 0, errors: 0, buckets: new Array<number>(RED_BUCKET_BOUNDS_US.length + 1).fill(0) });
    }
    const filter: unknown[] = [
      { term: { serviceName } },
      { range: { timestamp_millis: { gte: begin, lt: endTs, format: 'epoch_millis' } } },
    ];
    if (spanName !== undefined) filter.push({ term: { spanName } });
    const indices = this.names.formatTypeAndRange('red', begin, endTs).join(',');
    let searchAfter: unknown[] | undefined;
    for (;;) {
      const body: Record<string, unknown> = {
        size: PAGE,
        query: { bool: { filter } },
        // the fields of the _id, so pages never skip or repeat (ES 8 refuses to sort on _id)
        sort: [{ timestamp_millis: 'asc' }, { collector: 'asc' }, { flush: 'asc' }, { spanName: 'asc' }, { kind: 'asc' }, { remoteServiceName: 'asc' }],
        _source: ['timestamp_millis', 'calls', 'errors', 'buckets'],
      };
      if (searchAfter) body.search_after = searchAfter;
      const res = await this.options.http.request({
        method: 'POST',
        path: `/${indices}/_search?allow_no_indices=true&ignore_unavailable=true`,
        body: JSON.stringify(body),
      });
      if (res.status === 404) break;
      if (res.status !== 200) {
        throw new StorageError(isRetryableStatus(res.status) || res.status >= 500 ? 'ES_UNAVAILABLE' : 'ES_HTTP_ERROR',
          `reading RED windows answered ${res.status}`, { status: res.status });
      }
      const hits = ((res.body as { hits?: { hits?: Array<{ _source?: Record<string, unknown>; sort?: unknown[] }> } }).hits?.hits) ?? [];
      for (const hit of hits) {
        const s = hit._source ?? {};
        const ts = s.timestamp_millis;
        if (typeof ts !== 'number') continue;
        const i = Math.floor((ts - (endTs - stepCount * stepMs)) / stepMs);
        const step = steps[i];
        if (step === undefined) continue;
        if (typeof s.calls === 'number') step.calls += s.calls;
        if (typeof s.errors === 'number') step.errors += s.errors;
        if (Array.isArray(s.buckets)) addCounts(step.buckets, s.buckets.map((b) => (typeof b === 'number' ? b : 0)));
      }
      if (hits.length < PAGE) break;
      searchAfter = hits[hits.length - 1]!.sort;
      if (!searchAfter) break;
    }
    return steps;
  }

  /** Stops retrying: writes in progress reject with WRITER_SHUT_DOWN. */
  shutdown(): void {
    this.closed = true;
    this.sleeps.wakeAll();
  }

  private async clusterVersion(): Promise<ClusterVersion> {
    if (this.version !== undefined) return this.version;
    const res = await this.options.http.request({ method: 'GET', path: '/' });
    if (res.status !== 200) {
      throw new StorageError(isRetryableStatus(res.status) ? 'ES_UNAVAILABLE' : 'ES_HTTP_ERROR', `GET / answered ${res.status}`, { status: res.status });
    }
    const version = parseClusterVersion(res.body);
    assertSupported(version);
    this.version = version;
    return version;
  }

  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isRetryable(err)) throw err;
        await this.backoff(attempt, (err as StorageError).code);
      }
    }
  }

  private async backoff(attempt: number, cause: string): Promise<void> {
    if (this.closed) throw new StorageError('WRITER_SHUT_DOWN', 'RED window writer shut down before the write finished');
    const delayMs = backoffDelayMs(attempt, this.options.initialDelayMs ?? 100, this.options.maxDelayMs ?? 10_000);
    this.options.onRetry?.(cause, attempt);
    await this.sleeps.sleep(delayMs);
    if (this.closed) throw new StorageError('WRITER_SHUT_DOWN', 'RED window writer shut down before the write finished');
  }
}
