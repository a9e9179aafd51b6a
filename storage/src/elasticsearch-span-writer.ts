/**
 * Writes spans to Elasticsearch in zipkin's exact format with `POST /_bulk`.
 *
 * - Documents: span docs (span-document.ts) into <index><delim>span-<day>, plus autocomplete docs
 *   for configured tag keys. Ids are deterministic, so a resubmitted item overwrites itself.
 * - Retries: a whole request answered 429/5xx or failing at the network is resubmitted whole; a
 *   2xx answer with retryable item failures (429, 502-504, es_rejected_execution_exception)
 *   resubmits only those items. Delays grow exponentially with full jitter. Retrying never ends
 *   on its own: `write` resolves only when every item is indexed or failed permanently (reported
 *   in `failed`), or rejects with WRITER_SHUT_DOWN if `shutdown()` or the write's own signal
 *   interrupts it. Callers (the collector's sink) do not retry: this is the one layer that does.
 * - Bounded: at most `maxConcurrency` writes are encoded and sent at a time (later ones wait
 *   before encoding, so a burst of callers costs the memory of that many writes), and at most
 *   `maxConcurrency` bulk requests in flight across all writes, each with at most
 *   `maxBatchDocs` documents and about `maxBatchBytes` bytes.
 * - start(): reads the cluster version and installs missing templates; write() calls it lazily.
 */
import type { Span } from '@pintrace/model';
import { backoffDelayMs, sleep } from '@pintrace/runtime';
import { AutocompleteIndexer } from './autocomplete.js';
import type { AutocompleteOptions } from './autocomplete.js';
import { bulkBody, bulkOutcomes, isRetryableItem } from './bulk-request.js';
import type { BulkItem, ItemOutcome } from './bulk-request.js';
import { StorageError, isRetryable, isRetryableStatus } from './errors.js';
import { createEsHttp } from './http.js';
import type { EsHttp, EsHttpOptions } from './http.js';
import { IndexNameFormatter } from './index-names.js';
import { spanDocument, spanIndexTimestamp } from './span-document.js';
import type { FailedSpan, RetryEvent, SpanWriter, WriteOptions, WriteResult } from './span-writer.js';

export type { RetryEvent } from './span-writer.js';
import { buildTemplates, ensureTemplates } from './templates.js';
import type { TemplateOptions } from './templates.js';
import { assertSupported, indexTypeDelimiter, supportsTypes } from './version.js';
import { readClusterVersion } from './cluster-check.js';
import type { ClusterVersion } from './version.js';

export interface RetryOptions {
  /** First delay before a resubmission. Default 100 ms. */
  initialDelayMs?: number;
  /** Largest delay. Default 10000 ms. */
  maxDelayMs?: number;
}

/** An EsHttp to use (not closed by shutdown), or `url` etc. to create one (closed by shutdown). */
export interface ElasticsearchSpanWriterOptions extends Partial<EsHttpOptions> {
  http?: EsHttp;
  /** Index prefix (ES_INDEX). Default "zipkin". */
  index?: string;
  /** ES_DATE_SEPARATOR. Default "-". */
  dateSeparator?: string;
  /** SEARCH_ENABLED: write timestamp_millis, _q and autocomplete docs. Default true. */
  searchEnabled?: boolean;
  /** ES_ENSURE_TEMPLATES. Default true. */
  ensureTemplates?: boolean;
  /** Shards, replicas, strictTraceId, templatePriority for the templates. */
  templates?: Omit<TemplateOptions, 'index' | 'searchEnabled'>;
  /** AUTOCOMPLETE_KEYS and friends. */
  autocomplete?: AutocompleteOptions;
  /** ES_PIPELINE. */
  pipeline?: string;
  /**
   * Ask Elasticsearch for only what the writer reads of a bulk answer (per item status and error;
   * `filter_path`), which shrinks the answer about tenfold and its parsing with it. Default false.
   */
  compactBulkResponse?: boolean;
  /** Add `refresh=` to bulk requests (tests). */
  refresh?: boolean | 'wait_for';
  /** Bulk requests in flight at once, across all writes. Default 2. */
  maxConcurrency?: number;
  /** Documents per bulk request. Default 1000. */
  maxBatchDocs?: number;
  /** Approximate bytes per bulk request. Default 5 MiB. */
  maxBatchBytes?: number;
  retry?: RetryOptions;
  /** Skip `GET /` by giving the version. */
  version?: ClusterVersion;
  /** Called before each resubmission. */
  onRetry?: (event: RetryEvent) => void;
  now?: () => number;
  random?: () => number;
}

interface PendingItem extends BulkItem {
  span: Span;
  /** Set for autocomplete items. */
  limiterKey?: string;
}

/** One write's result and what its caller asked for. */
interface WriteCall extends WriteOptions {
  result: WriteResult;
}

type SendResult =
  | { kind: 'items'; outcomes: ItemOutcome[] }
  | { kind: 'retry-all'; cause: string; detail?: string }
  | { kind: 'fail-all' | 'too-large'; outcome: ItemOutcome };

class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.active--;
  }
}

const DAY_MS = 86_400_000;

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) {
    throw new StorageError('STORAGE_CONFIG_INVALID', `${name} must be a positive integer, was ${String(value)}`);
  }
  return v;
}

export class ElasticsearchSpanWriter implements SpanWriter {
  private readonly http: EsHttp;
  private readonly ownsHttp: boolean;
  private readonly names: IndexNameFormatter;
  private readonly searchEnabled: boolean;
  private readonly autocomplete: AutocompleteIndexer;
  private readonly semaphore: Semaphore;
  /** Writes being encoded and sent; the rest wait before encoding. */
  private readonly writeSlots: Semaphore;
  private readonly maxBatchDocs: number;
  private readonly maxBatchBytes: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly bulkPath: string;
  /** Aborted by shutdown(): every retry wait ends at once. */
  private readonly stopped = new AbortController();
  private version: ClusterVersion | undefined;
  private starting: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: ElasticsearchSpanWriterOptions) {
    if (options.http !== undefined) {
      this.http = options.http;
      this.ownsHttp = false;
    } else if (options.url !== undefined) {
      const { url, username, password, apiKey, caFile, certFile, keyFile, requestTimeoutMs } = options;
      const httpOptions: EsHttpOptions = { url };
      Object.assign(httpOptions, defined({ username, password, apiKey, caFile, certFile, keyFile, requestTimeoutMs }));
      this.http = createEsHttp(httpOptions);
      this.ownsHttp = true;
    } else {
      throw new StorageError('STORAGE_CONFIG_INVALID', 'ElasticsearchSpanWriter needs `url` (e.g. http://127.0.0.1:9200) or `http`');
    }
    this.names = new IndexNameFormatter(options);
    this.searchEnabled = options.searchEnabled ?? true;
    this.autocomplete = new AutocompleteIndexer(this.searchEnabled ? options.autocomplete : {});
    this.semaphore = new Semaphore(positiveInt('maxConcurrency', options.maxConcurrency, 2));
    this.writeSlots = new Semaphore(positiveInt('maxConcurrency', options.maxConcurrency, 2));
    this.maxBatchDocs = positiveInt('maxBatchDocs', options.maxBatchDocs, 1000);
    this.maxBatchBytes = positiveInt('maxBatchBytes', options.maxBatchBytes, 5 * 1024 * 1024);
    this.initialDelayMs = options.retry?.initialDelayMs ?? 100;
    this.maxDelayMs = options.retry?.maxDelayMs ?? 10_000;
    const query = new URLSearchParams();
    if (options.pipeline !== undefined) query.set('pipeline', options.pipeline);
    if (options.refresh !== undefined && options.refresh !== false) query.set('refresh', String(options.refresh));
    if (options.compactBulkResponse === true) query.set('filter_path', 'items.*.status,items.*.error.type,items.*.error.reason,error.type,error.reason');
    this.bulkPath = query.size > 0 ? `/_bulk?${query.toString()}` : '/_bulk';
    this.version = options.version;
  }

  get maxBatchSpans(): number {
    return this.maxBatchDocs;
  }

  /** The detected (or given) cluster version, once started. */
  get clusterVersion(): ClusterVersion | undefined {
    return this.version;
  }

  /** Detects the version and installs missing templates. Idempotent; a failed start can be retried. */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('WRITER_SHUT_DOWN', 'writer is shut down'));
    this.starting ??= this.doStart().catch((err: unknown) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.version === undefined) {
      this.version = await readClusterVersion(this.http);
    } else {
      assertSupported(this.version);
    }
    if (this.options.ensureTemplates ?? true) {
      await ensureTemplates(
        this.http,
        buildTemplates(this.version, {
          ...this.options.templates,
          index: this.names.index,
          searchEnabled: this.searchEnabled,
        }),
      );
    }
  }

  /** Stops retrying: writes in progress reject with WRITER_SHUT_DOWN. Closes an owned client. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopped.abort();
    if (this.ownsHttp) await this.http.close();
  }

  async write(spans: readonly Span[], options: WriteOptions = {}): Promise<WriteResult> {
    const call: WriteCall = { ...options, result: { written: 0, failed: [], autocompleteWritten: 0, retries: 0 } };
    if (spans.length === 0) return call.result;
    await this.writeSlots.acquire();
    try {
      this.throwIfStopped(call);
      return await this.writeAll(spans, call);
    } catch (err) {
      // Whatever failed while shutting down (a template PUT, a bulk cut off by the closed client),
      // the caller must only learn that this write did not complete.
      if ((this.closed || options.signal?.aborted) && !(err instanceof StorageError && err.code === 'WRITER_SHUT_DOWN')) {
        throw new StorageError('WRITER_SHUT_DOWN', 'writer shut down before the write completed', { cause: err });
      }
      throw err;
    } finally {
      this.writeSlots.release();
    }
  }

  private async writeAll(spans: readonly Span[], call: WriteCall): Promise<WriteResult> {
    const { result } = call;
    if (spans.length === 0) return result;
    await this.retrying(() => this.start(), call, 0);
    const version = this.version!;
    const delimiter = indexTypeDelimiter(version);
    const items: PendingItem[] = [];
    const now = this.options.now ?? Date.now;
    const docOptions = { searchEnabled: this.searchEnabled };
    // Spans of one write nearly always share a UTC day: format its index name once.
    let spanIndexDay = NaN;
    let spanIndex = '';
    for (const span of spans) {
      const millis = spanIndexTimestamp(span, now());
      const day = Math.floor(millis / DAY_MS);
      if (day !== spanIndexDay) {
        spanIndexDay = day;
        spanIndex = this.names.formatTypeAndTimestampForInsert('span', delimiter, millis);
      }
      const doc = spanDocument(span, docOptions);
      items.push({ index: spanIndex, type: 'span', id: doc.id, body: doc.json, span });
      if (this.searchEnabled && this.autocomplete.enabled) {
        const index = this.names.formatTypeAndTimestampForInsert('autocomplete', delimiter, millis);
        for (const ac of this.autocomplete.documentsFor(span, this.names.formatDate(millis))) {
          items.push({ index, type: 'autocomplete', id: ac.id, body: ac.body, span, limiterKey: ac.limiterKey });
        }
      }
    }
    await Promise.all(this.batches(items).map((batch) => this.writeBatch(batch, supportsTypes(version), call)));
    return result;
  }

  private batches(items: PendingItem[]): PendingItem[][] {
    const out: PendingItem[][] = [];
    let current: PendingItem[] = [];
    let bytes = 0;
    for (const item of items) {
      const size = item.body.length + item.index.length + item.id.length + 40;
      if (current.length > 0 && (current.length >= this.maxBatchDocs || bytes + size > this.maxBatchBytes)) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push(item);
      bytes += size;
    }
    if (current.length > 0) out.push(current);
    return out;
  }

  private async writeBatch(batch: PendingItem[], withType: boolean, call: WriteCall): Promise<void> {
    const { result } = call;
    let pending = batch;
    let cause = '';
    let detail: string | undefined;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await this.backoff(attempt, pending.length, cause, call, true, detail);
      const sent = await this.send(pending, withType);
      detail = undefined;
      if (sent.kind === 'retry-all') {
        cause = sent.cause;
        detail = sent.detail;
        continue;
      }
      if (sent.kind === 'too-large' && pending.length > 1) {
        const half = Math.ceil(pending.length / 2);
        await Promise.all([this.writeBatch(pending.slice(0, half), withType, call), this.writeBatch(pending.slice(half), withType, call)]);
        return;
      }
      if (sent.kind !== 'items') {
        for (const item of pending) this.fail(item, sent.outcome, result);
        return;
      }
      const retry: PendingItem[] = [];
      cause = '';
      sent.outcomes.forEach((outcome, i) => {
        const item = pending[i]!;
        if (outcome.status >= 200 && outcome.status < 300) {
          if (item.type === 'span') result.written++;
          else result.autocompleteWritten++;
        } else if (isRetryableItem(outcome)) {
          retry.push(item);
          if (cause === '') cause = outcome.errorType ?? String(outcome.status);
        } else {
          this.fail(item, outcome, result);
        }
      });
      pending = retry;
    }
  }

  /** One bulk request, classified. */
  private async send(pending: PendingItem[], withType: boolean): Promise<SendResult> {
    await this.semaphore.acquire();
    try {
      if (this.closed) throw new StorageError('WRITER_SHUT_DOWN', 'writer shut down before the write finished');
      let status: number;
      let body: unknown;
      try {
        ({ status, body } = await this.http.request({ method: 'POST', path: this.bulkPath, body: bulkBody(pending, withType), ndjson: true }));
      } catch (err) {
        if (isRetryable(err)) return { kind: 'retry-all', cause: (err as StorageError).code, detail: (err as StorageError).message };
        throw err;
      }
      if (status >= 200 && status < 300) {
        const outcomes = bulkOutcomes(body, pending.length);
        return outcomes !== undefined ? { kind: 'items', outcomes } : { kind: 'retry-all', cause: 'malformed_bulk_response' };
      }
      if (isRetryableStatus(status) || status >= 500) return { kind: 'retry-all', cause: String(status) };
      // Credentials that worked at start and stop working (rotated, expired, a revoked privilege)
      // are an outage to wait out, not a reason to drop the batch; the cause says what to fix.
      if (status === 401) return { kind: 'retry-all', cause: '401 unauthorized: the store refused the credentials (--es-password, --es-api-key)' };
      if (status === 403) return { kind: 'retry-all', cause: '403 forbidden: the store user or API key lost the privilege to write the zipkin indices' };
      const outcome: ItemOutcome = {
        status,
        errorType: errorField(body, 'type') ?? `http_${status}`,
        errorReason: errorField(body, 'reason') ?? `bulk request answered ${status}`,
      };
      return status === 413 ? { kind: 'too-large', outcome } : { kind: 'fail-all', outcome };
    } finally {
      this.semaphore.release();
    }
  }

  private fail(item: PendingItem, outcome: ItemOutcome, result: WriteResult): void {
    if (item.limiterKey !== undefined) {
      this.autocomplete.invalidate(item.limiterKey);
      return;
    }
    const failed: FailedSpan = {
      span: item.span,
      status: outcome.status,
      reason: outcome.errorType ?? `http_${outcome.status}`,
      message: outcome.errorReason ?? '',
    };
    result.failed.push(failed);
  }

  /** Runs `fn`, retrying retryable StorageErrors with backoff until it succeeds or the writer closes. */
  private async retrying(fn: () => Promise<void>, call: WriteCall, items: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await fn();
        return;
      } catch (err) {
        if (!isRetryable(err) || this.closed || call.signal?.aborted) throw err;
        await this.backoff(attempt + 1, items, (err as StorageError).code, call, false, (err as StorageError).message);
      }
    }
  }

  private async backoff(attempt: number, items: number, cause: string, call: WriteCall, counts = true, detail?: string): Promise<void> {
    this.throwIfStopped(call);
    const delayMs = backoffDelayMs(attempt, {
      initialMs: this.initialDelayMs,
      maxMs: this.maxDelayMs,
      ...(this.options.random ? { random: this.options.random } : {}),
    });
    if (counts) call.result.retries++;
    const event: RetryEvent = { attempt, items, cause, delayMs, ...(detail !== undefined ? { detail } : {}) };
    this.options.onRetry?.(event);
    call.onRetry?.(event);
    await this.wait(delayMs, call.signal);
    this.throwIfStopped(call);
  }

  private throwIfStopped(call: WriteCall): void {
    if (this.closed) throw new StorageError('WRITER_SHUT_DOWN', 'writer shut down before the write finished');
    if (call.signal?.aborted) throw new StorageError('WRITER_SHUT_DOWN', 'the write was aborted before it finished', { cause: call.signal.reason });
  }

  /** Sleeps `ms`, cut short by shutdown() or by `signal`. */
  private async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    await sleep(ms, signal === undefined ? this.stopped.signal : AbortSignal.any([this.stopped.signal, signal]));
  }
}

/** The entries of `o` whose value is not undefined (exactOptionalPropertyTypes). */
function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function errorField(body: unknown, field: 'type' | 'reason'): string | undefined {
  if (typeof body === 'object' && body !== null) {
    const error = (body as Record<string, unknown>).error;
    if (typeof error === 'object' && error !== null) {
      const value = (error as Record<string, unknown>)[field];
      if (typeof value === 'string') return value;
    }
  }
  return field === 'reason' && typeof body === 'string' ? body.slice(0, 500) : undefined;
}
