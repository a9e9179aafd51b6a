/**
 * The storage role the collector's sink writes through.
 */
import type { Span } from '@pintrace/model';

/** A span that could not be stored and will not be retried (e.g. a mapping error). */
export interface FailedSpan {
  span: Span;
  /** HTTP status of the item (or of the whole request). */
  status: number;
  /** Elasticsearch error type, e.g. "mapper_parsing_exception", or a StorageError code. */
  reason: string;
  message: string;
}

export interface WriteResult {
  /** Span documents Elasticsearch acknowledged. */
  written: number;
  /** Spans that failed permanently, with why, so the caller can count or dead-letter them. */
  failed: FailedSpan[];
  /** Autocomplete documents acknowledged. */
  autocompleteWritten: number;
  /** How many times items were resubmitted after a retryable failure. */
  retries: number;
}

/** Passed to `onRetry`, for logs and metrics. */
export interface RetryEvent {
  attempt: number;
  items: number;
  /** HTTP status or StorageError code that caused the retry. */
  cause: string;
  /** What the store or the network said, when more than the cause (for logs). */
  detail?: string;
  delayMs: number;
}

/** What the caller of one write may hear and say while the writer retries it. */
export interface WriteOptions {
  /** Stops retrying this write: it rejects with WRITER_SHUT_DOWN. */
  signal?: AbortSignal;
  /** Called before each resubmission of this write's items. */
  onRetry?: (event: RetryEvent) => void;
}

/**
 * Stores spans. The writer owns bulk size, bulk requests in flight and retrying: `write` resolves
 * only when every span is durably stored or reported in `failed`; it retries transient failures
 * itself and never drops a span silently.
 */
export interface SpanWriter {
  /** Most spans one bulk request carries (with their autocomplete documents, it may take two). */
  readonly maxBatchSpans: number;
  write(spans: readonly Span[], options?: WriteOptions): Promise<WriteResult>;
}
