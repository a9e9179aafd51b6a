/**
 * Storage errors: a stable `code`, the `cause`, and whether retrying the same call may succeed.
 */
export type StorageErrorCode =
  /** Options are invalid; the message says what to change. */
  | 'STORAGE_CONFIG_INVALID'
  /** Elasticsearch could not be reached (connection refused, reset, timeout). */
  | 'ES_UNAVAILABLE'
  /** Elasticsearch answered 429 or with a rejected-execution error: over capacity. */
  | 'ES_REJECTED'
  /** Elasticsearch answered with an unexpected HTTP status. */
  | 'ES_HTTP_ERROR'
  /** `GET /` did not contain a usable `.version.number`. */
  | 'ES_VERSION_UNREADABLE'
  /** The cluster version is outside what zipkin supports (ES 5-9.x, OpenSearch 1-3.x). */
  | 'ES_VERSION_UNSUPPORTED'
  /** A template could not be read or installed. */
  | 'ES_TEMPLATE_FAILED'
  /** The writer was shut down before the write finished. */
  | 'WRITER_SHUT_DOWN';

const RETRYABLE: ReadonlySet<StorageErrorCode> = new Set<StorageErrorCode>([
  'ES_UNAVAILABLE', 'ES_REJECTED', 'ES_TEMPLATE_FAILED',
]);

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  readonly retryable: boolean;
  /** HTTP status, when the error came from a response. */
  readonly status: number | undefined;

  constructor(code: StorageErrorCode, message: string, options: { cause?: unknown; status?: number; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.retryable = options.retryable ?? RETRYABLE.has(code);
  }
}

/** True if `err` is a StorageError marked retryable. */
export function isRetryable(err: unknown): boolean {
  return err instanceof StorageError && err.retryable;
}

/** Whether an HTTP status from Elasticsearch is worth retrying: 429 and 502/503/504. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}
