/**
 * What the collector needs from storage, and the default: Elasticsearch or OpenSearch in Zipkin's
 * format through @pintrace/storage (its writer encodes the exact documents, installs the templates,
 * and owns bulk size, bulk requests in flight and retrying 429s and outages).
 *
 * Opening the store: `ensureReady` rejects with a StorageError whose `retryable` tells the
 * collector whether to wait (the store is down: refused, DNS, timeout, a proxy's 502) or to stop
 * at once (wrong credentials, CA or scheme, not a store, an unsupported version), with a message
 * naming the setting to change.
 */
import { createEsHttp, ElasticsearchDependencyLinkWriter, ElasticsearchRedWindowStore, ElasticsearchSpanWriter, type EsHttp } from '@pintrace/storage';
import type { RedWindowSink } from './aggregate-red.js';
import type { DependencyStore } from './dependencies.js';
import type { Logger, StoreConnection } from '@pintrace/runtime';
import type { SinkWriter } from './sink.js';

export interface StorageCheck {
  ok: boolean;
  [detail: string]: unknown;
}

export interface CollectorStorage {
  writer: SinkWriter;
  /** Dependency-link documents. */
  dependencies: DependencyStore;
  /** RED window documents, when the store was opened with `red`. */
  redWindows?: RedWindowSink;
  /** Verifies the cluster and installs Zipkin's index templates where missing. */
  ensureReady(): Promise<void>;
  /** Whether storage is reachable now (for /health). */
  check(): Promise<StorageCheck>;
  /** Ends writes in progress (they reject) and releases connections; idempotent. */
  close(): Promise<void>;
}

export interface StorageOptions {
  /** URL(s), credentials and TLS files of the store (runtime's storeConnectionOf). */
  connection: StoreConnection;
  indexPrefix: string;
  shards: number;
  replicas: number;
  log: Logger;
  /** Told about each retry of the dependency-link writer (span writes report theirs to the sink). */
  onRetry?: (cause: string) => void;
  /** Tag keys that get autocomplete documents (AUTOCOMPLETE_KEYS). */
  autocompleteKeys?: readonly string[];
  /** Bulk requests in flight at once; default 2. */
  maxConcurrency?: number;
  /** Documents per bulk request; default 1000. */
  maxBatchDocs?: number;
  /** RED windows on: their template is installed and `redWindows` writes them. */
  red?: boolean;
}

/** Longest a /health probe waits for Elasticsearch. */
const CHECK_TIMEOUT_MS = 2_000;

export function createStorage(options: StorageOptions): CollectorStorage {
  const { log } = options;
  const http: EsHttp = createEsHttp(options.connection);
  const probe: EsHttp = createEsHttp({ ...options.connection, requestTimeoutMs: CHECK_TIMEOUT_MS });
  const writer = new ElasticsearchSpanWriter({
    http,
    index: options.indexPrefix,
    templates: { shards: options.shards, replicas: options.replicas, red: options.red ?? false },
    autocomplete: { keys: options.autocompleteKeys ?? [] },
    maxConcurrency: options.maxConcurrency ?? 2,
    maxBatchDocs: options.maxBatchDocs ?? 1000,
    compactBulkResponse: true,
  });
  const dependencyWriter = new ElasticsearchDependencyLinkWriter({
    http,
    index: options.indexPrefix,
    onRetry: (cause, attempt) => {
      log.warn({ cause, attempt }, 'dependency-link write retrying');
      options.onRetry?.(cause);
    },
  });
  const redStore = options.red
    ? new ElasticsearchRedWindowStore({
        http,
        index: options.indexPrefix,
        onRetry: (cause, attempt) => {
          log.warn({ cause, attempt }, 'RED window write retrying');
          options.onRetry?.(cause);
        },
      })
    : undefined;
  let closing: Promise<void> | undefined;
  return {
    writer,
    dependencies: dependencyWriter,
    ...(redStore ? { redWindows: redStore } : {}),
    ensureReady: () => writer.start(),
    async check() {
      try {
        // zipkin-server's health check: the span indices' health, which a user limited to the
        // zipkin indices may read (the whole cluster's health needs more privileges).
        const res = await probe.request({ method: 'GET', path: `/_cluster/health/${encodeURIComponent(options.indexPrefix)}*span-*` });
        const status = (res.body as { status?: unknown } | null)?.status;
        return { ok: res.status === 200 && status !== 'red', status: res.status === 200 ? status : `HTTP ${res.status}` };
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    },
    close() {
      closing ??= (async () => {
        dependencyWriter.shutdown();
        redStore?.shutdown();
        await writer.shutdown();
        await Promise.all([http.close(), probe.close()]);
      })();
      return closing;
    },
  };
}
