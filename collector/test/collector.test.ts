import { describe, expect, it, onTestFinished } from 'vitest';
import { resolveConfig } from '@pintrace/runtime';
import { startCollector } from '../src/collector.js';
import { collectorOptions, type CollectorConfig } from '../src/options.js';
import type { SinkWriter } from '../src/sink.js';
import type { CollectorStorage } from '../src/storage.js';
import { failingStore, FakeConsumer, FakeWriter, listMessage, settle, silentLog, span, until } from './fakes.js';

function fakeStorage(writer: SinkWriter) {
  const state = { reachable: true, ready: false, closed: false };
  const storage: CollectorStorage = {
    writer,
    dependencies: { write: async () => {}, read: async () => [] },
    ensureReady: async () => {
      state.ready = true;
    },
    check: async () => ({ ok: state.reachable }),
    close: async () => {
      state.closed = true;
    },
  };
  return { storage, state };
}

const config = (overrides: Partial<CollectorConfig> = {}): CollectorConfig => ({
  ...resolveConfig(collectorOptions, { env: {} }),
  metricsPort: 0,
  batchTimeMs: 5,
  groupWindowMs: 0,
  deadLetterTopic: 'none',
  dependencies: false,
  ...overrides,
});

describe('startCollector', () => {
  it('runs the pipeline, serves /metrics and /health, and drains on shutdown', async () => {
    const consumer = new FakeConsumer();
    const writer = new FakeWriter();
    const { storage, state } = fakeStorage(writer);
    const collector = await startCollector(config(), { consumer, storage, log: silentLog });
    await consumer.whenRunning();
    expect(state.ready).toBe(true);
    expect(consumer.connected).toBe(true);

    await consumer.deliver(0, [listMessage([span(), span()]), Buffer.from('garbage')]);
    await settle();
    expect(writer.allSpans()).toHaveLength(2);
    expect(consumer.committed()).toEqual({ 0: '2' });

    const base = `http://127.0.0.1:${collector.metricsPort}`;
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/pintrace_collector_in_total\{stage="validate",unit="message"\} 2/);
    expect(metrics).toMatch(/pintrace_collector_messages_undecodable_total\{reason="undecodable"\} 1/);
    expect(metrics).toMatch(/pintrace_collector_kafka_lag\{topic="t",partition="0"\} 5/);
    expect(metrics).toMatch(/pintrace_collector_bulk_seconds_count\{result="ok"\} 1/);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    state.reachable = false;
    const down = await fetch(`${base}/health`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'DOWN', elasticsearch: { ok: false } });

    await collector.shutdown();
    await collector.done;
    expect(consumer.connected).toBe(false);
    expect(state.closed).toBe(true);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });

  it('reports 503 while bulk writes fail, and gives up on them after the drain timeout without committing', async () => {
    const consumer = new FakeConsumer();
    const store = await failingStore();
    onTestFinished(() => store.stop());
    const { storage } = fakeStorage(store.writer);
    const collector = await startCollector(config(), { consumer, storage, log: silentLog, drainTimeoutMs: 50 });
    await consumer.whenRunning();
    void consumer.deliver(0, [listMessage([span()])]);
    await until(() => store.bulks() > 1); // the writer is retrying
    const health = await fetch(`http://127.0.0.1:${collector.metricsPort}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ lastWrite: { ok: false } });

    const started = Date.now();
    await collector.shutdown();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(consumer.commits).toEqual([]);
    expect(consumer.connected).toBe(false);
  });

  it('stops and rejects `done` when the consumer fails for good', async () => {
    const consumer = new FakeConsumer();
    const { storage } = fakeStorage(new FakeWriter());
    const collector = await startCollector(config(), { consumer, storage, log: silentLog });
    await consumer.whenRunning();
    consumer.fail(new Error('group lost'));
    await expect(collector.done).rejects.toMatchObject({ code: 'COLLECTOR_CONSUMER_FAILED' });
    expect(consumer.connected).toBe(false);
  });

  it('waits for storage that is not reachable yet, reporting DOWN with the reason meanwhile', async () => {
    const consumer = new FakeConsumer();
    const { storage } = fakeStorage(new FakeWriter());
    let failures = 2;
    storage.ensureReady = async () => {
      if (failures-- > 0) throw Object.assign(new Error('connect ECONNREFUSED'), { retryable: true });
    };
    const collector = await startCollector(config(), { consumer, storage, log: silentLog, maxStartBackoffMs: 20 });
    const health = await fetch(`http://127.0.0.1:${collector.metricsPort}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ phase: 'starting', waitingFor: expect.stringContaining('the store at http') });
    await consumer.whenRunning();
    expect((await fetch(`http://127.0.0.1:${collector.metricsPort}/health`)).status).toBe(200);
    await collector.shutdown();
  });

  it('rejects `done` at once when storage can never work, and can be shut down while waiting', async () => {
    const consumer = new FakeConsumer();
    const { storage } = fakeStorage(new FakeWriter());
    storage.ensureReady = async () => {
      throw Object.assign(new Error('Elasticsearch versions 5-9.x are supported, was 4.0'), { retryable: false });
    };
    const broken = await startCollector(config(), { consumer, storage, log: silentLog });
    await expect(broken.done).rejects.toThrow(/versions 5-9/);

    const waiting = fakeStorage(new FakeWriter()).storage;
    waiting.ensureReady = async () => {
      throw Object.assign(new Error('down'), { retryable: true });
    };
    const stuck = await startCollector(config(), { consumer: new FakeConsumer(), storage: waiting, log: silentLog });
    await stuck.shutdown();
    await expect(stuck.done).resolves.toBeUndefined();
  });
});
