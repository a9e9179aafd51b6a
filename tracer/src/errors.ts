/** Stable codes of the errors the tracer throws. Only configuration throws; tracing never does. */
export type TracerErrorCode = 'INVALID_TRACING_CONFIG';

/** `startTracing` or a component was configured with a value it cannot use. */
export class TracingConfigError extends Error {
  readonly code: TracerErrorCode = 'INVALID_TRACING_CONFIG';
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TracingConfigError';
  }
}
