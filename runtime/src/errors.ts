/**
 * The one error base of Pintrace-TS. Every workspace's errors extend it, so a caller anywhere can
 * decide "try again or give up" by one flag, whichever layer threw:
 *
 * - `code`: stable, upper-snake, owned by the workspace that throws (`ES_REJECTED`, `KAFKA_TIMEOUT`);
 *   code and dashboards match on it, never on the message.
 * - `retryable`: true when the same call may succeed later without changing anything (a server
 *   down, over capacity, a timeout); false when a setting or the input must change first.
 * - `cause`: the error underneath (a library's, a socket's), kept for logs; never shown instead of
 *   our message, which says what to change.
 *
 * One constructor shape everywhere: `(code, message, { retryable?, cause? })`. A subclass may
 * default `retryable` from its code; the default here is false (not retrying is the safe guess).
 */
export interface PintraceErrorOptions {
  /** Whether trying the same call again may succeed; default false. */
  retryable?: boolean;
  cause?: unknown;
}

export class PintraceError<Code extends string = string> extends Error {
  override name = 'PintraceError';
  readonly code: Code;
  readonly retryable: boolean;

  constructor(code: Code, message: string, options: PintraceErrorOptions = {}) {
    // No `cause` key at all when there is none, so logs do not print "cause: undefined".
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * Whether `err` says trying again may help: any error carrying `retryable: true`, ours or one
 * shaped like ours (a fake in a test, an error from another copy of this package).
 */
export function isRetryable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true;
}
