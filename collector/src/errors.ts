/** Errors of the collector: runtime's PintraceError with the collector's stable codes. */
import { PintraceError, type PintraceErrorOptions } from '@pintrace/runtime';

export type CollectorErrorCode =
  /** The sink was told to stop while a batch was not yet written. */
  | 'COLLECTOR_ABORTED'
  /** The Kafka consumer stopped on an error it could not recover from. */
  | 'COLLECTOR_CONSUMER_FAILED'
  /** Elasticsearch could not be prepared (version check, templates). */
  | 'COLLECTOR_STORAGE_SETUP'
  /** An option or rule is invalid; the message says what to change. */
  | 'COLLECTOR_CONFIG_INVALID'
  /** The dead-letter topic could not be written. */
  | 'COLLECTOR_DEAD_LETTER_FAILED';

export class CollectorError extends PintraceError<CollectorErrorCode> {
  override name = 'CollectorError';

  constructor(code: CollectorErrorCode, message: string, options?: PintraceErrorOptions) {
    super(code, message, options);
  }
}
