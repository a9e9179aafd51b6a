import { describe, expect, it } from 'vitest';
import { encodeDependencyLinks, encodeNames } from '../src/zipkin-json.js';

describe('Zipkin API response bodies', () => {
  it('dependencies are encoded as JSON_V1 (errorCount only when > 0)', () => {
    // What storage's getDependencies returns for its merged hits (storage/test/span-store-query.test.ts).
    const links = [
      { parent: 'a', child: 'b', callCount: 5, errorCount: 1 },
      { parent: 'b', child: 'c', callCount: 1, errorCount: 0 },
    ];
    expect(encodeDependencyLinks(links)).toBe('[{"parent":"a","child":"b","callCount":5,"errorCount":1},{"parent":"b","child":"c","callCount":1}]');
  });

  it('name lists are sorted in Java order and Jackson-quoted', () => {
    expect(encodeNames(['b', 'B', 'a"'])).toBe('["B","a\\"","b"]');
  });
});
