/**
 * What the small document writers (dependency links, RED windows) share, written once: the
 * cluster's version read once, bulk writes retried with runtime's backoff until every document is
 * durable or `shutdown()`, and a search that reads a missing index as empty.
 *
 * Retried: 429, 5xx, network failures, a malformed bulk answer, and items refused for a reason
 * that passes (`isRetryableItem`); only those items are sent again. Anything else (a mapping
 * conflict, 400) fails the write at once: retrying would never succeed.
 */
import { backoffDelayMs, sleep } from '@pintrace/runtime';
import { bulkBody, bulkOutcomes, isRetryableItem, type BulkItem } from './bulk-request.js';
import { StorageError, isRetryable, isRetryableStatus } from './errors.js';
import type { EsHttp } from './http.js';
import { assertSupported, parseClusterVersion, supportsTypes, type ClusterVersion } from './version.js';

export interface DocumentWriterOptions {
  http: EsHttp;
  /** Skip `GET /` by giving the version. */
  version?: ClusterVersion;
  /** Backoff bounds; defaults 100 ms and 10 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Called before each retry. */
  onRetry?: (cause: string, attempt: number) => void;
}

export class DocumentWrites {
  private version: ClusterVersion | undefined;
  private readonly stopped = new AbortController();

  /** `what` names the documents in errors ("dependency", "RED window"). */
  constructor(
    private readonly what: string,
    private readonly options: DocumentWriterOptions,
  ) {
    this.version = options.version;
  }

  /** The cluster's version, read once. */
  async clusterVersion(): Promise<ClusterVersion> {
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

  /** The version, waiting out a store that is down (as writes do). */
  versionRetrying(): Promise<ClusterVersion> {
    return this.retrying(() => this.clusterVersion());
  }

  /** Indexes the items; resolves once every one is durable. */
  async bulk(version: ClusterVersion, items: readonly BulkItem[]): Promise<void> {
    let pending = [...items];
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
              throw new StorageError('ES_HTTP_ERROR', `${this.what} document ${pending[i]!.id} refused: ${o.errorType ?? o.status} ${o.errorReason ?? ''}`, {
                status: o.status,
              });
            });
            pending = retry;
            if (pending.length === 0) return;
            cause = 'item_rejected';
          }
        } else if (isRetryableStatus(res.status) || res.status >= 500) {
          cause = String(res.status);
        } else {
          throw new StorageError('ES_HTTP_ERROR', `${this.what} bulk answered ${res.status}`, { status: res.status });
        }
      } catch (err) {
        if (!isRetryable(err)) throw err;
        cause = (err as StorageError).code;
      }
      await this.backoff(attempt, cause);
    }
  }

  /** `POST /<indices>/_search` with `body`; the answer's body, or undefined when no index exists. */
  async search(indices: string, body: unknown): Promise<unknown> {
    const res = await this.options.http.request({
      method: 'POST',
      path: `/${indices}/_search?allow_no_indices=true&ignore_unavailable=true`,
      body: JSON.stringify(body),
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200) {
      throw new StorageError(
        isRetryableStatus(res.status) || res.status >= 500 ? 'ES_UNAVAILABLE' : 'ES_HTTP_ERROR',
        `reading ${this.what} documents of ${indices} answered ${res.status}`,
        { status: res.status },
      );
    }
    return res.body;
  }

  /** Stops retrying: writes in progress reject with WRITER_SHUT_DOWN. */
  shutdown(): void {
    this.stopped.abort();
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
    const shutDown = (): StorageError => new StorageError('WRITER_SHUT_DOWN', `${this.what} writer shut down before the write finished`);
    if (this.stopped.signal.aborted) throw shutDown();
    this.options.onRetry?.(cause, attempt);
    const delayMs = backoffDelayMs(attempt, { initialMs: this.options.initialDelayMs ?? 100, maxMs: this.options.maxDelayMs ?? 10_000 });
    if (!(await sleep(delayMs, this.stopped.signal))) throw shutDown();
  }
}
