/** Errors of the collector, with a stable code and whether trying again can help. */
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

export class CollectorError extends Error {
  constructor(
    readonly code: CollectorErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CollectorError';
  }
}
