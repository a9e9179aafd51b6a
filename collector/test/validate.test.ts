import { describe, expect, it } from 'vitest';
import { firstValueFrom, of } from 'rxjs';
import { Receipt } from '../src/receipt.js';
import type { RawMessage, SourceBatch } from '../src/types.js';
import { validate } from '../src/validate.js';
import { listMessage, sample, silentLog, span, testMetrics } from './fakes.js';

function sourceBatch(values: Array<Buffer | null>): SourceBatch {
  const messages: RawMessage[] = values.map((value, i) => ({ offset: String(i), key: null, value }));
  return { topic: 't', partition: 0, messages, receipt: new Receipt('t', 0, 0n, BigInt(values.length)) };
}

describe('validate', () => {
  it('keeps the good spans of a list that also holds bad ones and counts each rejection by reason', async () => {
    const { registry, metrics } = testMetrics();
    const good1 = span();
    const good2 = span({ name: 'GET /Users' });
    const batch = sourceBatch([listMessage([good1, { traceId: 'NOT-HEX', id: '1' }, good2, { traceId: 'abc', id: '0000000000000000' }, { id: '2' }])]);
    const out = await firstValueFrom(of(batch).pipe(validate({ metrics, log: silentLog })));

    expect(out.spans.map((s) => s.id)).toEqual([good1.id, good2.id]);
    expect(out.spans[1].name).toBe('get /users'); // normalised as zipkin-server does
    expect(out.receipts).toEqual([batch.receipt]);
    expect(await sample(registry, 'pintrace_collector_spans_rejected_total', { reason: 'invalid_trace_id' })).toBe(1);
    expect(await sample(registry, 'pintrace_collector_spans_rejected_total', { reason: 'invalid_id' })).toBe(1);
    expect(await sample(registry, 'pintrace_collector_spans_rejected_total', { reason: 'missing_trace_id' })).toBe(1);
    expect(await sample(registry, 'pintrace_collector_dropped_total', { stage: 'validate', unit: 'span' })).toBe(3);
    expect(await sample(registry, 'pintrace_collector_in_total', { stage: 'validate', unit: 'message' })).toBe(1);
    expect(await sample(registry, 'pintrace_collector_out_total', { stage: 'validate', unit: 'span' })).toBe(2);
  });

  it('skips and counts undecodable messages while the other messages of the batch go on', async () => {
    const { registry, metrics } = testMetrics();
    const good = span();
    const batch = sourceBatch([
      Buffer.from('{"traceId":"a","id":"b"}'), // a bare object: zipkin requires a list
      Buffer.from('[{"traceId": '), // broken JSON
      Buffer.from([0x00, 0x01, 0x02]), // binary garbage
      null, // tombstone
      Buffer.alloc(0),
      listMessage([good]),
    ]);
    const out = await firstValueFrom(of(batch).pipe(validate({ metrics, log: silentLog })));

    expect(out.spans.map((s) => s.id)).toEqual([good.id]);
    expect(await sample(registry, 'pintrace_collector_messages_undecodable_total')).toBe(3);
    expect(await sample(registry, 'pintrace_collector_dropped_total', { stage: 'validate', reason: 'empty_message' })).toBe(2);
  });

  it('never throws for a batch: a decoder failure is a dropped message', async () => {
    const { registry, metrics } = testMetrics();
    const decode = () => {
      throw new Error('boom');
    };
    const out = await firstValueFrom(of(sourceBatch([listMessage([span()])])).pipe(validate({ metrics, log: silentLog, decode })));
    expect(out.spans).toEqual([]);
    expect(out.receipts).toHaveLength(1);
    expect(await sample(registry, 'pintrace_collector_messages_undecodable_total', { reason: 'undecodable' })).toBe(1);
  });

  it('passes an all-rejected batch on with its receipt so its offsets can still be committed', async () => {
    const { metrics } = testMetrics();
    const batch = sourceBatch([listMessage([{ traceId: 'zz', id: '1' }])]);
    const out = await firstValueFrom(of(batch).pipe(validate({ metrics, log: silentLog })));
    expect(out).toEqual({ spans: [], receipts: [batch.receipt] });
  });
});
