import { describe, expect, it } from 'vitest';
import { NameNormalizer } from '../../src/adjusters/name-normalizer.js';
import { span } from '../fakes.js';

describe('NameNormalizer', () => {
  it('renames services by alias and span names by pattern', () => {
    const a = new NameNormalizer({ serviceAliases: { 'FrontEnd-Canary': 'frontend' }, spanNamePatterns: [{ pattern: '/[0-9]+', replacement: '/{id}' }] });
    const s = span({ name: 'get /users/123', localEndpoint: { serviceName: 'frontend-canary' }, remoteEndpoint: { serviceName: 'db' } });
    expect(a.shouldAdjust(s)).toBe(true);
    expect(a.adjust(s)).toMatchObject({ name: 'get /users/{id}', localEndpoint: { serviceName: 'frontend' }, remoteEndpoint: { serviceName: 'db' } });
  });
});
