import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsumedBatch, ConsumedMessage, SpanConsumer } from '@pintrace/kafka';
import { createRegistry, PLAINTEXT } from '@pintrace/runtime';
import { DeciderMirror, parseDeciderRecord } from '../src/decider-mirror.js';
import { AgentMetrics } from '../src/metrics.js';
import { silent, tempDir, waitFor } from './helpers.js';

/** A consumer whose batches the test pushes; `fail()` makes it stop like a lost broker. */
class FakeConsumer implements SpanConsumer {
  handler: ((b: ConsumedBatch) => Promise<void>) | undefined;
  private errorListeners: Array<(e: Error) => void> = [];
  async connect(): Promise<void> {}
  async run(handler: (b: ConsumedBatch) => Promise<void>): Promise<void> {
    this.handler = handler;
  }
  async commit(): Promise<void> {}
  pause(): void {}
  resume(): void {}
  assignment() {
    return [];
  }
  onRebalance(): void {}
  onError(l: (e: Error) => void): void {
    this.errorListeners.push(l);
  }
  async disconnect(): Promise<void> {}
  fail(): void {
    for (const l of this.errorListeners) l(new Error('broker gone'));
  }
  async push(records: Array<[string, string | null]>): Promise<void> {
    const messages: ConsumedMessage[] = records.map(([k, v], i) => ({
      topic: 'd',
      partition: 0,
      offset: String(i),
      key: Buffer.from(k),
      value: v === null ? null : Buffer.from(v),
      timestamp: String(Date.now()),
    }));
    await this.handler!({ topic: 'd', partition: 0, highWatermark: String(records.length), messages });
  }
}

describe('fleet decider mirror', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let abort: AbortController;
  let mirror: DeciderMirror | undefined;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    abort = new AbortController();
  });
  afterEach(async () => {
    abort.abort();
    await mirror?.stopped();
    await cleanup();
  });

  const startMirror = (file: string) => {
    const consumers: FakeConsumer[] = [];
    const metrics = new AgentMetrics(createRegistry());
    mirror = new DeciderMirror({
      kafka: { brokers: ['x:1'], security: PLAINTEXT },
      topic: 'd',
      file,
      metrics,
      log: silent,
      signal: abort.signal,
      consumer: () => {
        const c = new FakeConsumer();
        consumers.push(c);
        return c;
      },
    });
    mirror.start();
    return { consumers, metrics };
  };

  it('parses name → percent records, tombstones and rejects bad ones', () => {
    expect(parseDeciderRecord({ key: Buffer.from('Pintrace.Sample_Rate'), value: Buffer.from('0.3') })).toEqual({ name: 'pintrace.sample_rate', value: 0.3 });
    expect(parseDeciderRecord({ key: Buffer.from('x'), value: null })).toEqual({ name: 'x', value: undefined });
    expect(parseDeciderRecord({ key: Buffer.from('x'), value: Buffer.alloc(0) })).toEqual({ name: 'x', value: undefined });
    expect(parseDeciderRecord({ key: Buffer.from('x'), value: Buffer.from('150') })).toBeUndefined();
    expect(parseDeciderRecord({ key: Buffer.from('x'), value: Buffer.from('abc') })).toBeUndefined();
    expect(parseDeciderRecord({ key: null, value: Buffer.from('1') })).toBeUndefined();
  });

  it('applies records to the file atomically, keeps other keys, and removes tombstoned ones', async () => {
    const file = path.join(dir, 'decider.json');
    await writeFile(file, JSON.stringify({ 'local.only': 7, 'pintrace.sample_rate': 100 }));
    const { consumers, metrics } = startMirror(file);
    await waitFor(() => consumers[0]?.handler !== undefined);
    await consumers[0].push([
      ['pintrace.sample_rate', '0.3'],
      ['pintrace.sample_rate.checkout', '5'],
      ['bogus', 'nope'],
    ]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ 'local.only': 7, 'pintrace.sample_rate': 0.3, 'pintrace.sample_rate.checkout': 5 });
    await consumers[0].push([['pintrace.sample_rate.checkout', null]]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ 'local.only': 7, 'pintrace.sample_rate': 0.3 });
    expect(await metrics.value(metrics.deciderUpdates, { result: 'invalid' })).toBe(1);
  });

  it('keeps the last file while the consumer is down, and rebuilds the consumer', async () => {
    const file = path.join(dir, 'decider.json');
    const { consumers } = startMirror(file);
    await waitFor(() => consumers[0]?.handler !== undefined);
    await consumers[0].push([['pintrace.sample_rate', '2']]);
    consumers[0].fail();
    await waitFor(() => consumers.length === 2 && consumers[1].handler !== undefined, 5000, 'consumer rebuilt');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ 'pintrace.sample_rate': 2 });
    await consumers[1].push([['pintrace.sample_rate', '3']]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ 'pintrace.sample_rate': 3 });
  });
});
