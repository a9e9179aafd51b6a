/**
 * Query errors. `QUERY_INVALID` carries zipkin-server's exact message (what its API answers with
 * HTTP 400 and a plain-text body); Elasticsearch failures stay StorageError (../errors.ts).
 */
import { PintraceError } from '@pintrace/runtime';

export type QueryErrorCode =
  /** A query parameter is invalid; the message is zipkin's IllegalArgumentException text. */
  | 'QUERY_INVALID'
  /** The query did not finish within its deadline. */
  | 'QUERY_TIMEOUT';

/** Only a timeout is retryable; the code decides. */
export class QueryError extends PintraceError<QueryErrorCode> {
  override readonly name = 'QueryError';

  constructor(code: QueryErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { cause: options.cause, retryable: code === 'QUERY_TIMEOUT' });
  }
}

/** Shorthand for an invalid-input error with zipkin's message. */
export function invalid(message: string): QueryError {
  return new QueryError('QUERY_INVALID', message);
}
