/** ui-proxy errors: a stable code, the cause, and whether a retry may succeed (runtime's PintraceError). */
import { PintraceError } from '@pintrace/runtime';

export type UiProxyErrorCode =
  /** Options are invalid or unsafe (e.g. no authentication on a public address). */
  | 'UI_CONFIG_INVALID'
  /** The Zipkin UI (Lens) files could not be found or extracted. */
  | 'LENS_UNAVAILABLE'
  /** The HTTP port could not be bound. */
  | 'UI_LISTEN_FAILED'
  /** The store answered but can never work with these settings (credentials, TLS, scheme, version). */
  | 'UI_STORE_UNUSABLE';

export class UiProxyError extends PintraceError<UiProxyErrorCode> {
  override readonly name = 'UiProxyError';
}
