/**
 * Dependency-link documents in the shape zipkin-server reads (`ElasticsearchSpanStore
 * .getDependencies`): daily indices `<index><delim>dependency-<yyyy-MM-dd>` holding
 *
 *   {"id":"<parent>|<child>","parent":"..","child":"..","callCount":N,"errorCount":N,"owner":".."}
 *
 * zipkin-server reads only parent, child, callCount and errorCount (`{"size":10000}`, no query)
 * and sums them per (parent, child) across every document of the days it reads. A streaming
 * writer therefore keeps one document per (day, parent, child, owner) holding the owner's
 * cumulative counts for the day: rewriting it is idempotent, and owners (one per Kafka partition,
 * say) never overwrite each other. The `_id` is `<parent>|<child>|<owner>`; the template maps the
 * type with `enabled: false`, so `owner` is found again by reading the day's documents.
 *
 * Writes retry 429, 5xx and network failures with backoff until they succeed or `shutdown()`.
 */
import { bulkBody, bulkOutcomes, isRetryableItem } from './bulk-request.js';
import type { BulkItem } from './bulk-request.js';
import { StorageError, isRetryable, isRetryableStatus } from './errors.js';
import { backoffDelayMs, InterruptibleSleeps } from './backoff.js';
import type { EsHttp } from './http.js';
import { IndexNameFormatter } from './index-names.js';
import { quoteJackson } from './jackson-json.js';
import { assertSupported, indexTypeDelimiter, parseClusterVersion, supportsTypes } from './version.js';
import type { ClusterVersion } from './version.js';

/** One owner's cumulative counts of a link on one UTC day. */
export interface DependencyLinkDocument {
  /** Any instant of the UTC day the counts belong to, epoch ms. */
  dayMillis: number;
  parent: string;
  child: string;
  callCount: number;
  errorCount: number;
  /** Who keeps these counts (e.g. "group/topic/partition"); part of the `_id`. */
  owner: string;
}

export interface DependencyLinkWriterOptions {
  http: EsHttp;
  /** Index prefix (ES_INDEX). Default "zipkin". */
  index?: string;
  dateSeparator?: string;
  /** Skip `GET /` by giving the version. */
  version?: ClusterVersion;
  /** Backoff bounds; defaults 100 ms and 10 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Called before each retry. */
  onRetry?: (cause: string, attempt: number) => void;
}

/** The most documents zipkin-server reads per dependency query; stay well below it. */
export const DEPENDENCY_READ_LIMIT = 10_000;

export class ElasticsearchDependencyLinkWriter {
  private readonly names: IndexNameFormatter;
  private version: ClusterVersion | undefined;
  private closed = false;
  private readonly sleeps = new InterruptibleSleeps();

  constructor(private readonly options: DependencyLinkWriterOptions) {
    this.names = new IndexNameFormatter({
      ...(options.index !== undefined ? { index: options.index } : {}),
      ...(options.dateSeparator !== undefined ? { dateSeparator: options.dateSeparator } : {}),
    });
    this.version = options.version;
  }

  /** `_id` of a document. */
  static documentId(parent: string, child: string, owner: string): string {
    return `${parent}|${child}|${owner}`;
  }

  /** Index a document of `dayMillis` is written to (after the version is known). */
  async indexFor(dayMillis: number): Promise<string> {
    const version = await this.clusterVersion();
    return this.names.formatTypeAndTimestampForInsert('dependency', indexTypeDelimiter(version), dayMillis);
  }

  /** Writes (overwrites) the documents; resolves once every one is durable. */
  async write(docs: readonly DependencyLinkDocument[]): Promise<void> {
    if (docs.length === 0) return;
    const version = await this.retrying(() => this.clusterVersion());
    const delimiter = indexTypeDelimiter(version);
    let pending: BulkItem[] = docs.map((d) => ({
      index: this.names.formatTypeAndTimestampForInsert('dependency', delimiter, d.dayMillis),
      type: 'dependency',
      id: ElasticsearchDependencyLinkWriter.documentId(d.parent, d.child, d.owner),
      body: Buffer.from(
        `{"id":${quoteJackson(`${d.parent}|${d.child}`)},"parent":${quoteJackson(d.parent)},"child":${quoteJackson(d.child)},` +
          `"callCount":${d.callCount},"errorCount":${d.errorCount},"owner":${quoteJackson(d.owner)}}`,
        'utf8',
      ),
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
              throw new StorageError('ES_HTTP_ERROR', `dependency document ${pending[i]!.id} refused: ${o.errorType ?? o.status} ${o.errorReason ?? ''}`, { status: o.status });
            });
            pending = retry;
            if (pending.length === 0) return;
            cause = 'item_rejected';
          }
        } else if (isRetryableStatus(res.status) || res.status >= 500) {
          cause = String(res.status);
        } else {
          throw new StorageError('ES_HTTP_ERROR', `dependency bulk answered ${res.status}`, { status: res.status });
        }
      } catch (err) {
        if (!isRetryable(err)) throw err;
        cause = (err as StorageError).code;
      }
      await this.backoff(attempt, cause);
    }
  }

  /** Documents of one day (all owners, or only `owner`); empty when the index does not exist. */
  async read(dayMillis: number, owner?: string): Promise<DependencyLinkDocument[]> {
    const version = await this.clusterVersion();
    const index = this.names.formatTypeAndTimestampForInsert('dependency', indexTypeDelimiter(version), dayMillis);
    const res = await this.options.http.request({
      method: 'POST',
      path: `/${index}/_search?allow_no_indices=true&ignore_unavailable=true`,
      body: JSON.stringify({ size: DEPENDENCY_READ_LIMIT }),
    });
    if (res.status === 404) return [];
    if (res.status !== 200) {
      throw new StorageError(isRetryableStatus(res.status) || res.status >= 500 ? 'ES_UNAVAILABLE' : 'ES_HTTP_ERROR',
        `reading ${index} answered ${res.status}`, { status: res.status });
    }
    const hits = ((res.body as { hits?: { hits?: Array<{ _source?: Record<string, unknown> }> } }).hits?.hits) ?? [];
    const out: DependencyLinkDocument[] = [];
    for (const hit of hits) {
      const s = hit._source ?? {};
      if (typeof s.parent !== 'string' || typeof s.child !== 'string' || typeof s.owner !== 'string') continue;
      if (owner !== undefined && s.owner !== owner) continue;
      out.push({
        dayMillis,
        parent: s.parent,
        child: s.child,
        owner: s.owner,
        callCount: typeof s.callCount === 'number' ? s.callCount : 0,
        errorCount: typeof s.errorCount === 'number' ? s.errorCount : 0,
      });
    }
    return out;
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
    if (this.closed) throw new StorageError('WRITER_SHUT_DOWN', 'dependency writer shut down before the write finished');
    const delayMs = backoffDelayMs(attempt, this.options.initialDelayMs ?? 100, this.options.maxDelayMs ?? 10_000);
    this.options.onRetry?.(cause, attempt);
    await this.sleeps.sleep(delayMs);
    if (this.closed) throw new StorageError('WRITER_SHUT_DOWN', 'dependency writer shut down before the write finished');
  }
}
