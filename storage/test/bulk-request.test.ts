import { describe, expect, it } from 'vitest';
import { bulkBody, bulkOutcomes, isRetryableItem } from '../src/bulk-request.js';

describe('bulk request', () => {
  it('writes meta and document lines', () => {
    const body = bulkBody([{ index: 'zipkin-span-2026-04-08', type: 'span', id: 'a-1', body: Buffer.from('{"x":1}') }], false);
    expect(body.toString()).toBe('{"index":{"_index":"zipkin-span-2026-04-08","_id":"a-1"}}\n{"x":1}\n');
    const typed = bulkBody([{ index: 'zipkin:autocomplete-2026-04-08', type: 'autocomplete', id: 'k="v"', body: Buffer.from('{}') }], true);
    expect(typed.toString()).toBe('{"index":{"_index":"zipkin:autocomplete-2026-04-08","_type":"autocomplete","_id":"k=\\"v\\""}}\n{}\n');
  });
  it('reads item outcomes in order and refuses mismatched answers', () => {
    const answer = {
      errors: true,
      items: [{ index: { status: 201 } }, { index: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } }],
    };
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
