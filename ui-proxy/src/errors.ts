/** ui-proxy errors: a stable code, the cause, and whether a retry may succeed. */
export type UiProxyErrorCode =
  /** Options are invalid or unsafe (e.g. no authentication on a public address). */
  | 'UI_CONFIG_INVALID'
  /** The Zipkin UI (Lens) files could not be found or extracted. */
  | 'LENS_UNAVAILABLE'
  /** The HTTP port could not be bound. */
  | 'UI_LISTEN_FAILED'
  /** The store answered but can never work with these settings (credentials, TLS, scheme, version). */
  | 'UI_STORE_UNUSABLE';

export class UiProxyError extends Error {
  override readonly name = 'UiProxyError';
  readonly code: UiProxyErrorCode;
  readonly retryable: boolean;

  constructor(code: UiProxyErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}
