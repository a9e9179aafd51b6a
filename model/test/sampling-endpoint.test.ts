import { describe, expect, it } from 'vitest';
import { samplingEndpointOf } from '@pintrace/model';

describe('samplingEndpointOf', () => {
  it('is the http.path when the root has one, else its name', () => {
    expect(samplingEndpointOf('get', '/api/Pay')).toBe('/api/Pay');
    expect(samplingEndpointOf('Checkout', undefined)).toBe('Checkout');
    expect(samplingEndpointOf('get', 42)).toBe('get');
  });
});
