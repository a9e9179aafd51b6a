import { describe, expect, it } from 'vitest';
import type { ConsumedBatch } from '@pintrace/kafka';
import { OffsetTracker } from '../src/offset-tracker.js';
import { kafkaSource } from '../src/source.js';
import type { SourceBatch } from '../src/types.js';
import { FakeConsumer, listMessage, sample, settle, silentLog, testMetrics } from './fakes.js';

function setup() {
  const consumer = new FakeConsumer();
  const tracker = new OffsetTracker();
  const { registry, metrics } = testMetrics();
  const source = kafkaSource({ consumer, tracker, metrics, log: silentLog });
  const seen: SourceBatch[] = [];
  const state = { completed: false };
  source.batches$.subscribe({ next: (b) => seen.push(b), complete: () => (state.completed = true) });
  return { consumer, tracker, registry, source, seen, state };
}

describe('source', () => {
  it('emits each batch with a receipt over its offsets and records the lag', async () => {
    const { consumer, tracker, registry, seen } = setup();
    const handled = consumer.deliver(3, [listMessage([]), listMessage([])]);
    await settle();
    expect(seen).toHaveLength(1);
    expect(seen[0].receipt.describe()).toBe('t[3]@0..1');
    expect(tracker.inFlight()).toBe(1);
    expect(await sample(registry, 'pintrace_collector_kafka_lag', { partition: '3' })).toBe(5);
    seen[0].receipt.release();
    await handled;
    expect(tracker.takeCommittable()).toEqual([{ topic: 't', partition: 3, offset: '2' }]);
  });

  it('ignores an empty batch', async () => {
    const { consumer, seen } = setup();
    await consumer.handler!({ topic: 't', partition: 0, messages: [], highWatermark: '0' } satisfies ConsumedBatch);
    expect(seen).toEqual([]);
  });

  it('on stop, completes once the running handler finished and emits nothing more', async () => {
    const { consumer, source, seen, state } = setup();
    const first = consumer.deliver(0, [listMessage([])]);
    await settle();
    source.stop();
    await consumer.deliver(1, [listMessage([])]); // returns at once, not emitted, not tracked
    expect(seen).toHaveLength(1);
    expect(state.completed).toBe(false);
    seen[0].receipt.release();
    await first;
    expect(state.completed).toBe(true);
  });

  it('lets waiting handlers return when the pipeline unsubscribes, leaving their offsets uncommitted', async () => {
    const consumer = new FakeConsumer();
    const tracker = new OffsetTracker();
    const { metrics } = testMetrics();
    const subscription = kafkaSource({ consumer, tracker, metrics, log: silentLog }).batches$.subscribe();
    const handled = consumer.deliver(0, [listMessage([])]);
    await settle();
    subscription.unsubscribe();
    await handled;
    expect(tracker.takeCommittable()).toEqual([]);
  });
});
