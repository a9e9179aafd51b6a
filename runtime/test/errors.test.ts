import { describe, expect, it } from 'vitest';
import { isRetryable, PintraceError } from '../src/errors.js';

class ThingError extends PintraceError<'THING_DOWN' | 'THING_BAD'> {
  override readonly name = 'ThingError';
}

describe('PintraceError', () => {
  it('carries a stable code, the message, retryable and the cause', () => {
    const cause = new Error('ECONNREFUSED');
    const e = new ThingError('THING_DOWN', 'thing is down', { retryable: true, cause });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(PintraceError);
    expect(e).toMatchObject({ name: 'ThingError', code: 'THING_DOWN', message: 'thing is down', retryable: true });
    expect(e.cause).toBe(cause);
    expect(String(e)).toBe('ThingError: thing is down');
  });

  it('is not retryable and has no cause key unless told', () => {
    const e = new PintraceError('SOME_CODE', 'no');
    expect(e.retryable).toBe(false);
    expect('cause' in e).toBe(false);
    expect(e.name).toBe('PintraceError');
  });
});

describe('isRetryable', () => {
  it('reads the flag of any error shaped like ours', () => {
    expect(isRetryable(new PintraceError('X', 'x', { retryable: true }))).toBe(true);
    expect(isRetryable(new PintraceError('X', 'x', { retryable: false }))).toBe(false);
    expect(isRetryable(Object.assign(new Error('fake'), { retryable: true }))).toBe(true);
    expect(isRetryable(new Error('plain'))).toBe(false);
    expect(isRetryable(undefined)).toBe(false);
    expect(isRetryable('retryable')).toBe(false);
  });
});
