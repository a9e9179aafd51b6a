import { describe, expect, it } from 'vitest';
import { firstValueFrom, of } from 'rxjs';
import type { KafkaMessage } from '@pintrace/kafka';
import { readDeadLetterHeaders } from '@pintrace/model';
import { deadLetter } from '../src/dead-letter.js';
import type { SpanBatch } from '../src/types.js';
import { sample, silentLog, span, testMetrics } from './fakes.js';

const letter = { topic: 'zipkin', partition: 3, offset: '17', key: Buffer.from('k'), value: Buffer.from('garbage!'), reason: 'undecodable' };

describe('dead letter', () => {
  it("sends undecodable messages with model's header schema and passes a new batch on without them", async () => {
    const { registry, metrics } = testMetrics();
    const sent: Array<{ topic: string; messages: KafkaMessage[] }> = [];
    const producer = { send: async (topic: string, messages: KafkaMessage[]) => void sent.push({ topic, messages }) };
    const s = span();
    const input: SpanBatch = { spans: [s], receipts: [], deadLetters: [letter] };
    const out = await firstValueFrom(of(input).pipe(deadLetter({ producer, topic: 'zipkin-dlq', metrics, log: silentLog })));
    expect(out).toEqual({ spans: [s], receipts: [] });
    expect(input.deadLetters).toEqual([letter]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.topic).toBe('zipkin-dlq');
    const message = sent[0]!.messages[0]!;
    expect(message.value).toEqual(letter.value);
    expect(readDeadLetterHeaders(message.headers as Record<string, string>)).toMatchObject({
      rejectedBy: 'collector',
      reason: 'undecodable',
      bytes: 8,
      topic: 'zipkin',
      partition: 3,
      offset: '17',
    });
    expect(await sample(registry, 'pintrace_collector_dead_lettered_total', { reason: 'undecodable' })).toBe(1);
  });

  it('retries a failing send before passing the batch on', async () => {
    const { metrics } = testMetrics();
    let attempts = 0;
    const producer = {
      send: async () => {
        if (++attempts < 3) throw new Error('broker down');
      },
    };
    const input: SpanBatch = { spans: [], receipts: [], deadLetters: [letter] };
    const out = await firstValueFrom(of(input).pipe(deadLetter({ producer, topic: 'zipkin-dlq', metrics, log: silentLog, maxBackoffMs: 5 })));
    expect(attempts).toBe(3);
    expect(out.deadLetters).toBeUndefined();
  });

  it('only counts the letters when no topic is configured', async () => {
    const { registry, metrics } = testMetrics();
    const out = await firstValueFrom(of<SpanBatch>({ spans: [], receipts: [], deadLetters: [letter] }).pipe(deadLetter({ metrics, log: silentLog })));
    expect(out.deadLetters).toBeUndefined();
    expect(await sample(registry, 'pintrace_collector_dropped_total', { stage: 'dead_letter', reason: 'no_dead_letter_topic' })).toBe(1);
  });
});
