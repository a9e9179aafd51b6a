import { describe, expect, it } from 'vitest';
import type { Span } from '@pintrace/model';
import { AutocompleteIndexer } from '../src/autocomplete.js';

const span = (tags: Record<string, string>): Span => ({ traceId: '0000000000000001', id: '0000000000000001', tags });

describe('AutocompleteIndexer', () => {
  it('emits only configured keys within the length limit', () => {
    const indexer = new AutocompleteIndexer({ keys: ['env', 'long'] });
    const docs = indexer.documentsFor(span({ env: 'prod', other: 'x', long: 'x'.repeat(252) }), '2026-04-08');
    expect(docs.map((d) => [d.id, d.body.toString()])).toEqual([['env=prod', '{"tagKey":"env","tagValue":"prod"}']]);
  });
  it('suppresses repeats per day for the TTL and after invalidation writes again', () => {
    let now = 0;
    const indexer = new AutocompleteIndexer({ keys: ['env'], ttlMs: 1000, now: () => now });
    expect(indexer.documentsFor(span({ env: 'prod' }), 'd1')).toHaveLength(1);
    expect(indexer.documentsFor(span({ env: 'prod' }), 'd1')).toHaveLength(0);
    expect(indexer.documentsFor(span({ env: 'prod' }), 'd2')).toHaveLength(1);
    now = 1001;
    const again = indexer.documentsFor(span({ env: 'prod' }), 'd1');
    expect(again).toHaveLength(1);
    indexer.invalidate(again[0]!.limiterKey);
    expect(indexer.documentsFor(span({ env: 'prod' }), 'd1')).toHaveLength(1);
  });
  it('bounds memory by cardinality, forgetting the oldest', () => {
    const indexer = new AutocompleteIndexer({ keys: ['k'], cardinality: 2 });
    for (const v of ['a', 'b', 'c']) indexer.documentsFor(span({ k: v }), 'd');
    expect(indexer.documentsFor(span({ k: 'a' }), 'd')).toHaveLength(1);
    expect(indexer.documentsFor(span({ k: 'c' }), 'd')).toHaveLength(0);
  });
  it('is disabled without keys', () => {
    expect(new AutocompleteIndexer().enabled).toBe(false);
  });
});
