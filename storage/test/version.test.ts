import { describe, expect, it } from 'vitest';
import { assertSupported, indexTypeDelimiter, parseClusterVersion, supportsTypes } from '../src/version.js';
import type { ClusterVersion } from '../src/version.js';

const es = (major: number, minor = 0): ClusterVersion => ({ distribution: 'elasticsearch', major, minor });
const os = (major: number, minor = 0): ClusterVersion => ({ distribution: 'opensearch', major, minor });

describe('version detection', () => {
  it('reads Elasticsearch and OpenSearch', () => {
    expect(parseClusterVersion({ version: { number: '8.8.2', build_flavor: 'default' } })).toEqual(es(8, 8));
    expect(parseClusterVersion({ version: { number: '2.19.5', distribution: 'OpenSearch' } })).toEqual(os(2, 19));
  });
  it('fails clearly without a version number', () => {
    expect(() => parseClusterVersion({ name: 'x' })).toThrow(/\.version\.number not found/);
    expect(() => parseClusterVersion({ version: { number: 'eight' } })).toThrow(/Invalid \.version\.number/);
  });
  it('accepts ES 5-9.x and OpenSearch 1-3.x only', () => {
    expect(() => assertSupported(es(8, 8))).not.toThrow();
    expect(() => assertSupported(es(9, 3))).not.toThrow();
    expect(() => assertSupported(es(10))).toThrow('Elasticsearch versions 5-9.x are supported, was: 10.0');
    expect(() => assertSupported(es(2, 4))).toThrow(/5-9/);
    expect(() => assertSupported(os(3))).not.toThrow();
    expect(() => assertSupported(os(4))).toThrow('OpenSearch versions 1-3.x are supported, was: 4.0');
  });
  it('picks the delimiter and _type rule', () => {
    expect(indexTypeDelimiter(es(6, 8))).toBe(':');
    expect(indexTypeDelimiter(es(7))).toBe('-');
    expect(indexTypeDelimiter(os(1))).toBe('-');
    expect(supportsTypes(es(6, 8))).toBe(true);
    expect(supportsTypes(es(7))).toBe(false);
    expect(supportsTypes(os(1, 3))).toBe(true);
    expect(supportsTypes(os(2))).toBe(false);
  });
});
