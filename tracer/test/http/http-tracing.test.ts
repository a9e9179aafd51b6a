import { describe, expect, it } from 'vitest';
import { pathOf } from '../../src/http/http-tracing.js';

describe('pathOf', () => {
  it('cuts a request target at its first ? or #, whichever comes first', () => {
    expect(pathOf('/items/7')).toBe('/items/7');
    expect(pathOf('/items/7?q=1')).toBe('/items/7');
    expect(pathOf('/items/7#top')).toBe('/items/7');
    expect(pathOf('/a?q=1#top')).toBe('/a');
    expect(pathOf('/a#top?q=1')).toBe('/a');
    expect(pathOf('/a?next=/b#c')).toBe('/a');
  });

  it('answers / for no target, an empty one or one that is only a query', () => {
    expect(pathOf(undefined)).toBe('/');
    expect(pathOf('')).toBe('/');
    expect(pathOf('?q=1')).toBe('/');
  });

  it("keeps only the path of an absolute-form target (a proxy's)", () => {
    expect(pathOf('http://example.com:8080/x/y?q=1')).toBe('/x/y');
    expect(pathOf('http://example.com')).toBe('/');
    expect(pathOf('*')).toBe('*');
  });
});
