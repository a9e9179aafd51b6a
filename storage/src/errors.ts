/**
 * Storage errors: a stable `code`, the `cause`, and whether retrying the same call may succeed.
 *
 * The split that matters at start-up: a store that is down (refused, DNS, timeout, a proxy
 * answering 502/503) is retryable, so a collector waits for it; a store that answers but cannot
 * work with these settings (wrong password, API key or CA, http vs https, an unsupported version,
 * not a store at all) is not, and the message names the setting to change. Messages never carry
 * a secret: URLs in them have no credentials and no header is ever quoted.
 */
import { PintraceError, type PintraceErrorOptions } from '@pintrace/runtime';

export type StorageErrorCode =
  /** Options are invalid; the message says what to change. */
  | 'STORAGE_CONFIG_INVALID'
  /** The store could not be reached (connection refused or reset, DNS, timeout, 502-504 from a proxy). */
  | 'ES_UNAVAILABLE'
  /** The store answered 429 or with a rejected-execution error: over capacity. */
  | 'ES_REJECTED'
  /** The store answered with an unexpected HTTP status. */
  | 'ES_HTTP_ERROR'
  /** 401: the credentials (--es-username/--es-password, --es-api-key or user:password@ in --es) were refused. */
  | 'ES_AUTH_FAILED'
  /** 403: authenticated, but the user or key lacks a privilege the call needs. */
  | 'ES_FORBIDDEN'
  /** The store's TLS certificate was not trusted or does not name the host (--es-ca-file, the host in --es). */
  | 'ES_TLS_CERT_UNTRUSTED'
  /** The store requires a client certificate, or refused ours (--es-cert-file/--es-key-file). */
  | 'ES_TLS_CLIENT_CERT'
  /** An http:// URL pointed at a port that speaks TLS (--es must start with https://). */
  | 'ES_TLS_EXPECTED'
  /** An https:// URL pointed at a port that speaks plain HTTP (--es must start with http://). */
  | 'ES_TLS_UNEXPECTED'
  /** `GET /` answered, but not like Elasticsearch or OpenSearch (no `.version.number`). */
  | 'ES_VERSION_UNREADABLE'
  /** The cluster version is outside what zipkin supports (ES 5-9.x, OpenSearch 1-3.x). */
  | 'ES_VERSION_UNSUPPORTED'
  /** A template could not be read or installed. */
  | 'ES_TEMPLATE_FAILED'
  /** The writer was shut down before the write finished. */
  | 'WRITER_SHUT_DOWN';

const RETRYABLE: ReadonlySet<StorageErrorCode> = new Set<StorageErrorCode>(['ES_UNAVAILABLE', 'ES_REJECTED', 'ES_TEMPLATE_FAILED']);

/** `retryable` defaults from the code (RETRYABLE above) rather than to false. */
export class StorageError extends PintraceError<StorageErrorCode> {
  override readonly name = 'StorageError';
  /** HTTP status, when the error came from a response. */
  readonly status: number | undefined;

  constructor(code: StorageErrorCode, message: string, options: PintraceErrorOptions & { status?: number } = {}) {
    super(code, message, { cause: options.cause, retryable: options.retryable ?? RETRYABLE.has(code) });
    this.status = options.status;
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
