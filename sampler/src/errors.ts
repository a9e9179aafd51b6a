/** Stable codes of the errors this package throws (configuration only; sampling never throws). */
export type SamplerErrorCode = 'INVALID_SAMPLE_RATE';

/** A sampler was configured with a value it cannot use; the message says what to change. */
export class SamplerConfigError extends Error {
  readonly code: SamplerErrorCode;
  readonly retryable = false;

  constructor(code: SamplerErrorCode, message: string) {
    super(message);
    this.name = 'SamplerConfigError';
    this.code = code;
  }
}
