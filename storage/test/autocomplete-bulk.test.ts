import { describe, expect, it } from 'vitest';
import type { Span } from '@pintrace/model';
import { AutocompleteIndexer } from '../src/autocomplete.js';
import { bulkBody, bulkOutcomes, isRetryableItem } from '../src/bulk-request.js';

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

describe('bulk request', () => {
  it('writes meta and document lines', () => {
    const body = bulkBody([{ index: 'zipkin-span-2026-04-08', type: 'span', id: 'a-1', body: Buffer.from('{"x":1}') }], false);
    expect(body.toString()).toBe('{"index":{"_index":"zipkin-span-2026-04-08","_id":"a-1"}}\n{"x":1}\n');
    const typed = bulkBody([{ index: 'zipkin:autocomplete-2026-04-08', type: 'autocomplete', id: 'k="v"', body: Buffer.from('{}') }], true);
    expect(typed.toString()).toBe('{"index":{"_index":"zipkin:autocomplete-2026-04-08","_type":"autocomplete","_id":"k=\\"v\\""}}\n{}\n');
  });
  it('reads item outcomes in order and refuses mismatched answers', () => {
    const answer = { errors: true, items: [{ index: { status: 201 } }, { index: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } }] };
    expect(bulkOutcomes(answer, 2)).toEqual([{ status: 201 }, { status: 429, errorType: 'es_rejected_execution_exception', errorReason: 'queue full' }]);
    expect(bulkOutcomes(answer, 3)).toBeUndefined();
    expect(bulkOutcomes('nope', 1)).toBeUndefined();
  });
  it('classifies retryable items', () => {
    expect(isRetryableItem({ status: 429 })).toBe(true);
    expect(isRetryableItem({ status: 503 })).toBe(true);
    expect(isRetryableItem({ status: 500, errorType: 'es_rejected_execution_exception' })).toBe(true);
    expect(isRetryableItem({ status: 400, errorType: 'mapper_parsing_exception' })).toBe(false);
  });
});
