/**
 * The consumer implemented with librdkafka, through the KafkaJS-compatible API of
 * @confluentinc/kafka-javascript (`KafkaJS.Kafka#consumer`): librdkafka fetches, decompresses and
 * heartbeats on its own threads; the binding's JS layer hands batches per partition to our handler.
 *
 * How our interface maps onto that layer, and why:
 * - Manual commits only: `autoCommit: false`; `commit()` is the layer's `commitOffsets` with
 *   explicit offsets. Nothing is committed on disconnect.
 * - One batch per partition at a time (`partitionsConsumedConcurrently: 1`), at most
 *   `MAX_BATCH_MESSAGES` messages (the layer's default is 32, which would cost the collector a
 *   handler round per 32 messages).
 * - A batch is resolved explicitly once the handler succeeded. The layer marks a batch "stale"
 *   when its partition is paused while the handler runs (the collector's backpressure does exactly
 *   that) and then seeks back to the batch's first offset, which would hand the same batch over
 *   again after resume. Resolving it first makes the pause seek to the offset after the batch.
 * - A handler that throws leaves the batch unresolved: the layer seeks back to its first offset and
 *   the batch comes again. We wait a backoff (0.5 s doubling to 30 s) before rethrowing, as kafkajs
 *   restarts its consumer after a backoff, so a sink that is down is not retried in a tight loop.
 * - Heartbeats run on librdkafka's thread, so a slow handler does not cost the membership; the
 *   bound is `max.poll.interval.ms` (the layer takes it from `rebalanceTimeout`, ≥ 60 s here).
 * - The classic group protocol with the round-robin assignor (the layer's default), which every
 *   broker we support speaks; KIP-848's protocol needs Kafka ≥ 4.0 on the server side.
 */
import type { Logger } from '@pintrace/runtime';
import type { ConsumedBatch, ConsumedMessage, ConsumerOptions, SpanConsumer, TopicPartition } from './types.js';
import { configError, KafkaClientError, notConnected } from './errors.js';
import { kafkaLogger } from './log.js';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_BYTES_PER_PARTITION,
  DEFAULT_MAX_WAIT_TIME_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  validateConsumerOptions,
} from './options.js';
import { AuthWatch, authenticationError, bindingLogger, librdkafkaSecurityConfig, rdError, requireLibrdkafka, RD_LOG_LEVEL, type RdModule } from './librdkafka-base.js';

/** Messages per batch handed to the handler; the fetch size per partition bounds the bytes. */
export const MAX_BATCH_MESSAGES = 2000;
/** Longest connect() waits for the first metadata answer. */
const CONNECT_TIMEOUT_MS = 30_000;

/** The binding's KafkaJS-layer message, as far as we read it. */
interface CompatMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  offset: string;
  headers?: Record<string, Buffer | string | Array<Buffer | string> | undefined>;
}
interface CompatBatchPayload {
  batch: { topic: string; partition: number; highWatermark: string; messages: CompatMessage[] };
  resolveOffset(offset: string): void;
}
interface CompatConsumer {
  connect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(config: { eachBatch: (p: CompatBatchPayload) => Promise<void>; eachBatchAutoResolve: boolean; partitionsConsumedConcurrently: number }): Promise<void>;
  commitOffsets(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void>;
  pause(topics: Array<{ topic: string; partitions: number[] }>): void;
  resume(topics: Array<{ topic: string; partitions: number[] }>): void;
  disconnect(): Promise<void>;
}
interface RebalanceError {
  code: number;
}

function toMessage(topic: string, partition: number, m: CompatMessage): ConsumedMessage {
  const out: ConsumedMessage = { topic, partition, offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp };
  if (m.headers && Object.keys(m.headers).length > 0) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.headers)) {
      if (v === undefined) continue;
      headers[k] = Array.isArray(v) ? String(v[v.length - 1]) : String(v);
    }
    out.headers = headers;
  }
  return out;
}

export class LibrdkafkaSpanConsumer implements SpanConsumer {
  readonly #rd: RdModule;
  readonly #options: ConsumerOptions;
  readonly #logger: Logger;
  readonly #consumer: CompatConsumer;
  readonly #auth = new AuthWatch();
  #assigned: TopicPartition[] = [];
  readonly #rebalanceListeners: Array<(assigned: TopicPartition[]) => void> = [];
  readonly #errorListeners: Array<(error: Error) => void> = [];
  #state: 'new' | 'connecting' | 'connected' | 'running' | 'closed' = 'new';
  #failures = 0;

  constructor(options: ConsumerOptions) {
    validateConsumerOptions(options);
    this.#rd = requireLibrdkafka();
    this.#options = options;
    this.#logger = kafkaLogger(options.logger);
    const sessionTimeout = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    const kafka = new this.#rd.KafkaJS.Kafka({
      kafkaJS: {
        brokers: options.brokers,
        clientId: options.clientId ?? 'pintrace-consumer',
        logger: bindingLogger(this.#logger, (line) => this.#auth.signal(line)),
      },
      ...librdkafkaSecurityConfig(options.security, this.#rd.features),
      log_level: RD_LOG_LEVEL,
    }) as { consumer(config: Record<string, unknown>): CompatConsumer };
    this.#consumer = kafka.consumer({
      kafkaJS: {
        groupId: options.groupId,
        fromBeginning: options.fromBeginning ?? true,
        autoCommit: false,
        sessionTimeout,
        heartbeatInterval: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
        rebalanceTimeout: Math.max(60_000, sessionTimeout),
        maxBytesPerPartition: options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION,
        maxWaitTimeInMs: options.maxWaitTimeMs ?? DEFAULT_MAX_WAIT_TIME_MS,
        allowAutoTopicCreation: false,
      },
      'js.consumer.max.batch.size': MAX_BATCH_MESSAGES,
      // Called by the layer on every assignment change; returning nothing keeps its own handling.
      rebalance_cb: (err: RebalanceError, assignment: TopicPartition[]) => this.#onRebalance(err, assignment),
    });
  }

  async connect(): Promise<void> {
    if (this.#state !== 'new') {
      if (this.#state === 'closed') throw notConnected('consumer was disconnected');
      return;
    }
    this.#state = 'connecting';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KafkaClientError('KAFKA_TIMEOUT', `consumer ${this.#options.groupId} connect: no broker answered within ${CONNECT_TIMEOUT_MS} ms`, { retriable: true })), CONNECT_TIMEOUT_MS);
      timer.unref();
    });
    const connecting = this.#consumer.connect();
    try {
      await Promise.race([connecting, this.#auth.failure(), timeout]);
      await this.#consumer.subscribe({ topics: this.#options.topics });
      this.#state = 'connected';
    } catch (e) {
      connecting.catch(() => undefined);
      this.#state = 'closed';
      void this.#consumer.disconnect().catch(() => undefined);
      if (e instanceof KafkaClientError) throw e;
      if (this.#auth.last !== undefined) throw authenticationError(this.#auth.last, e);
      throw rdError(this.#rd, e, `consumer ${this.#options.groupId} connect`);
    } finally {
      clearTimeout(timer);
    }
  }

  async run(handler: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    if (this.#state === 'running') throw configError('run() was already called on this consumer');
    if (this.#state !== 'connected') throw notConnected('run');
    this.#state = 'running';
    try {
      await this.#consumer.run({
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.#eachBatch(payload, handler),
      });
    } catch (e) {
      throw rdError(this.#rd, e, `consumer ${this.#options.groupId} run`);
    }
  }

  async #eachBatch(payload: CompatBatchPayload, handler: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const out: ConsumedBatch = {
      topic: batch.topic,
      partition: batch.partition,
      // The layer reports -1001 when the watermark is not known yet; say "no lag known" as 0 lag would.
      highWatermark: Number(batch.highWatermark) >= 0 ? batch.highWatermark : String(BigInt(batch.messages[batch.messages.length - 1]!.offset) + 1n),
      messages: batch.messages.map((m) => toMessage(batch.topic, batch.partition, m)),
    };
    try {
      await handler(out);
    } catch (e) {
      this.#failures++;
      const waitMs = Math.min(30_000, 500 * 2 ** Math.min(this.#failures - 1, 6));
      this.#logger.warn({ err: e, topic: batch.topic, partition: batch.partition, retryInMs: waitMs }, 'batch handler failed; the batch is handed over again');
      await new Promise((resolve) => setTimeout(resolve, waitMs).unref());
      throw e;
    }
    this.#failures = 0;
    // Resolve before returning (see the header): a pause during the handler then keeps the position.
    payload.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
  }

  async commit(offsets: Array<TopicPartition & { offset: string }>): Promise<void> {
    if (this.#state !== 'running' && this.#state !== 'connected') throw notConnected('commit');
    if (offsets.length === 0) return;
    try {
      await this.#consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })));
    } catch (e) {
      throw rdError(this.#rd, e, `commit of group ${this.#options.groupId}`);
    }
  }

  pause(partitions: TopicPartition[]): void {
    if (this.#state !== 'running' && this.#state !== 'connected') return;
    for (const [topic, ps] of byTopic(partitions)) this.#consumer.pause([{ topic, partitions: ps }]);
  }

  resume(partitions: TopicPartition[]): void {
    if (this.#state !== 'running' && this.#state !== 'connected') return;
    for (const [topic, ps] of byTopic(partitions)) this.#consumer.resume([{ topic, partitions: ps }]);
  }

  assignment(): TopicPartition[] {
    return this.#assigned.map((tp) => ({ ...tp }));
  }

  onRebalance(listener: (assigned: TopicPartition[]) => void): void {
    this.#rebalanceListeners.push(listener);
  }

  onError(listener: (error: Error) => void): void {
    this.#errorListeners.push(listener);
  }

  async disconnect(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasConnected = this.#state !== 'new';
    this.#state = 'closed';
    if (wasConnected) await this.#consumer.disconnect().catch(() => undefined);
    this.#setAssignment([]);
  }

  /**
   * Assignment changes: the classic protocol's eager assignor revokes everything, then assigns the
   * new set; a cooperative one adds and removes partitions. Both are handled as set operations.
   */
  #onRebalance(err: RebalanceError, assignment: TopicPartition[]): void {
    const codes = this.#rd.CODES.ERRORS;
    const key = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;
    if (err.code === codes.ERR__ASSIGN_PARTITIONS) {
      const have = new Set(this.#assigned.map(key));
      const next = [...this.#assigned, ...assignment.filter((tp) => !have.has(key(tp))).map((tp) => ({ topic: tp.topic, partition: tp.partition }))];
      this.#setAssignment(next);
    } else if (err.code === codes.ERR__REVOKE_PARTITIONS) {
      const gone = new Set(assignment.map(key));
      this.#setAssignment(this.#assigned.filter((tp) => !gone.has(key(tp))));
    } else {
      this.#emitError(rdError(this.#rd, err, `consumer ${this.#options.groupId} rebalance`));
    }
  }

  #setAssignment(assigned: TopicPartition[]): void {
    const sorted = [...assigned].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    const same = sorted.length === this.#assigned.length && sorted.every((tp, i) => tp.topic === this.#assigned[i]?.topic && tp.partition === this.#assigned[i]?.partition);
    this.#assigned = sorted;
    if (same && sorted.length === 0) return;
    for (const l of this.#rebalanceListeners) {
      try {
        l(this.assignment());
      } catch (e) {
        this.#logger.warn({ err: e }, 'rebalance listener threw');
      }
    }
  }

  #emitError(error: KafkaClientError): void {
    if (this.#errorListeners.length === 0) {
      this.#logger.error({ err: error, code: error.code }, error.message);
      return;
    }
    for (const l of this.#errorListeners) l(error);
  }
}

function byTopic(partitions: TopicPartition[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = m.get(topic) ?? [];
    list.push(partition);
    m.set(topic, list);
  }
  return m;
}
