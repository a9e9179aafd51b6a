/** In-memory stand-ins for the Kafka consumer and the span writer, for unit tests. */
import { Registry } from 'prom-client';
import { pino } from 'pino';
import type { ConsumedBatch, SpanConsumer, TopicPartition } from '@pintrace/kafka';
import type { Span } from '@pintrace/model';
import { ElasticsearchSpanWriter } from '@pintrace/storage';
import { bulkAnswer, FakeElasticsearch } from '../../storage/test/fake-es.js';
import { createCollectorMetrics, type CollectorMetrics } from '../src/metrics.js';
import type { SinkRejection, SinkWriter } from '../src/sink.js';

export const silentLog = pino({ level: 'silent' });

export function testMetrics(): { registry: Registry; metrics: CollectorMetrics } {
  const registry = new Registry();
  return { registry, metrics: createCollectorMetrics(registry) };
}

/** Sum of a metric's samples whose labels include `labels`. */
export async function sample(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

let spanCounter = 0;
export function span(overrides: Partial<Span> = {}): Span {
  spanCounter += 1;
  const id = spanCounter.toString(16).padStart(16, '0');
  return {
    traceId: `a${id.slice(1)}`,
    id,
    name: 'get',
    timestamp: 1_700_000_000_000_000 + spanCounter,
    duration: 10,
    localEndpoint: { serviceName: 'svc' },
    ...overrides,
  };
}

/** A Kafka message value holding a JSON list of the given items. */
export function listMessage(items: unknown[]): Buffer {
  return Buffer.from(JSON.stringify(items));
}

/** A consumer whose batches the test delivers by hand. */
export class FakeConsumer implements SpanConsumer {
  handler: ((batch: ConsumedBatch) => Promise<void>) | undefined;
  readonly commits: Array<Array<TopicPartition & { offset: string }>> = [];
  readonly paused: TopicPartition[][] = [];
  commitError: Error | undefined;
  connected = false;
  private rebalance: (assigned: TopicPartition[]) => void = () => {};
  private error: (err: Error) => void = () => {};
  private readonly next = new Map<number, bigint>();

  async connect(): Promise<void> {
    this.connected = true;
  }
  async run(handler: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    this.handler = handler;
  }
  /** Resolves once run() was called. */
  async whenRunning(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.handler) {
      if (Date.now() > deadline) throw new Error('run() was not called in time');
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  async commit(offsets: Array<TopicPartition & { offset: string }>): Promise<void> {
    if (this.commitError) throw this.commitError;
    this.commits.push(offsets);
  }
  pause(partitions: TopicPartition[]): void {
    this.paused.push(partitions);
  }
  resume(): void {}
  assignment(): TopicPartition[] {
    return [...this.next.keys()].map((partition) => ({ topic: 't', partition }));
  }
  onRebalance(listener: (assigned: TopicPartition[]) => void): void {
    this.rebalance = listener;
  }
  onError(listener: (error: Error) => void): void {
    this.error = listener;
  }
  async disconnect(): Promise<void> {
    this.connected = false;
  }
  assign(partitions: number[]): void {
    this.rebalance(partitions.map((partition) => ({ topic: 't', partition })));
  }
  fail(err: Error): void {
    this.error(err);
  }

  /** Hands the handler a batch of `values` at the partition's next offsets; resolves when the handler does. */
  deliver(partition: number, values: Array<Buffer | null>): Promise<void> {
    if (!this.handler) throw new Error('run() was not called');
    const first = this.next.get(partition) ?? 0n;
    this.next.set(partition, first + BigInt(values.length));
    const messages = values.map((value, i) => ({
      topic: 't',
      partition,
      offset: String(first + BigInt(i)),
      key: null,
      value,
      timestamp: '0',
    }));
    return this.handler({ topic: 't', partition, messages, highWatermark: String(first + BigInt(values.length) + 5n) });
  }

  /** Latest committed offset per partition, from the commits seen so far. */
  committed(): Record<number, string> {
    const out: Record<number, string> = {};
    for (const commit of this.commits) for (const o of commit) out[o.partition] = o.offset;
    return out;
  }
}

interface PendingWrite {
  spans: readonly Span[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * A writer that remembers what was written; in `manual` mode each write waits for the test.
 * (Retrying is the real writer's: tests of a failing store use ElasticsearchSpanWriter against
 * storage's FakeElasticsearch, see `failingStore`.)
 */
export class FakeWriter implements SinkWriter {
  readonly written: Span[][] = [];
  readonly pending: PendingWrite[] = [];
  /** The bulk size the batch stage fills. */
  maxBatchSpans = 100;
  manual = false;
  /** Spans (by id) Elasticsearch refuses for good. */
  readonly refuse = new Set<string>();

  write(spans: readonly Span[]): Promise<{ failed: SinkRejection[] }> {
    const done = () => {
      const failed = spans.filter((s) => this.refuse.has(s.id)).map(() => ({ reason: 'storage_rejected', status: 400 }));
      this.written.push(spans.filter((s) => !this.refuse.has(s.id)));
      return { failed };
    };
    if (!this.manual) return Promise.resolve(done());
    return new Promise((resolve, reject) => {
      this.pending.push({ spans, resolve: () => resolve(done()), reject });
    });
  }

  /** Completes the oldest waiting write. */
  completeNext(): void {
    const next = this.pending.shift();
    if (!next) throw new Error('no write is waiting');
    next.resolve();
  }

  allSpans(): Span[] {
    return this.written.flat();
  }
}

/**
 * Storage's real span writer against a scripted Elasticsearch that refuses every connection while
 * `down` is set, so a test sees the writer's own retries: `bulks` counts the bulk requests tried,
 * `stored` the ids of the spans Elasticsearch took.
 */
export async function failingStore(): Promise<{
  writer: ElasticsearchSpanWriter;
  es: FakeElasticsearch;
  state: { down: boolean };
  bulks: () => number;
  stored: string[];
  stop: () => Promise<void>;
}> {
  const state = { down: true };
  const stored: string[] = [];
  const es = new FakeElasticsearch((req) => {
    if (state.down) return { status: 0, hangUp: true };
    const docs = req.body.split('\n').filter((line, i) => i % 2 === 1 && line !== '');
    for (const doc of docs) stored.push((JSON.parse(doc) as { id: string }).id);
    return { status: 200, body: bulkAnswer(req.body, () => 201) };
  });
  const url = await es.start();
  const writer = new ElasticsearchSpanWriter({
    url,
    version: { distribution: 'elasticsearch', major: 8, minor: 8 },
    ensureTemplates: false,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
  });
  return {
    writer,
    es,
    state,
    bulks: () => es.bulkRequests().length,
    stored,
    stop: async () => {
      await writer.shutdown();
      await es.stop();
    },
  };
}

/** Waits until `condition()` holds or `timeoutMs` passed (the test's assertions then say which). */
export async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

/** Lets queued promise callbacks and zero-delay timers run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
