/**
 * Producer and admin implemented with @platformatic/kafka ~1.35 (pure TypeScript, maintained;
 * needs Node >= 20.19.4). The consumer is in platformatic-consumer.ts.
 *
 * Three library defaults are changed here on purpose:
 * - `autocreateTopics` is false in the library, and a send to a missing topic then retries
 *   silently until a caller's timeout. We pass our `autoCreateTopics` (default true) through.
 * - the default partitioner hashes keys with murmur2 `>>> 0`, which puts a key on another
 *   partition than Java clients and kafkajs do whenever the partition count is not a power of
 *   two (half of all keys with 12 partitions); we hash as Java does (murmur2 & 0x7fffffff), so
 *   all spans of a trace land in one partition whichever client produced them.
 * - offsets are BigInt; the interface gives decimal strings.
 */
import {
  Admin,
  compatibilityPartitioner,
  ConfigResourceTypes,
  IncrementalAlterConfigOperationTypes,
  Producer,
  ProduceAcks,
} from '@platformatic/kafka';
import type { Logger } from '@pintrace/runtime';
import type { KafkaMessage, ProducerOptions, SpanProducer, TopicAdmin } from './types.js';
import { KafkaClientError, notConnected, toKafkaError } from './errors.js';
import { kafkaLogger } from './log.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, validateBrokers, validateProducerOptions, withDeadline } from './options.js';

/** Produce errors after which the idempotent session (producer id + sequences) is unusable. */
const SESSION_LOST = ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED'];

const toBuffer = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

/**
 * Keyed: murmur2 & 0x7fffffff, as Java and kafkajs (the library's compatibilityPartitioner, which
 * alone would put every message without a key on partition 0). Unkeyed: round robin.
 */
function javaCompatiblePartitioner(): typeof compatibilityPartitioner {
  let next = 0;
  return (message, key) => (Buffer.isBuffer(key) ? compatibilityPartitioner(message, key) : next++ & 0x7fffffff);
}

export class PlatformaticSpanProducer implements SpanProducer {
  readonly #newProducer: () => Producer;
  #producer: Producer;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  #state: 'new' | 'connected' | 'closed' = 'new';
  #connecting: Promise<void> | undefined;
  /** Settles when the last queued send is done. */
  #tail: Promise<void> = Promise.resolve();

  constructor(options: ProducerOptions) {
    validateProducerOptions(options);
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#logger = kafkaLogger(options.logger);
    this.#newProducer = () => new Producer({
      clientId: options.clientId ?? 'pintrace-producer',
      bootstrapBrokers: options.brokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: options.compression ?? 'none',
      autocreateTopics: options.autoCreateTopics ?? true,
      partitioner: javaCompatiblePartitioner(),
      timeout: this.#timeoutMs,
      retries: 10,
      retryDelay: 250,
      strict: true,
    });
    this.#producer = this.#newProducer();
  }

  async connect(): Promise<void> {
    if (this.#state === 'connected') return;
    if (this.#state === 'closed') throw notConnected('producer was disconnected');
    // The library connects lazily; fetching the producer id here surfaces a bad broker address now.
    this.#connecting ??= this.#producer.initIdempotentProducer({}).then(
      () => {
        this.#state = 'connected';
      },
      (e: unknown) => {
        this.#connecting = undefined;
        throw toKafkaError(e, 'producer connect');
      },
    );
    return this.#connecting;
  }

  /**
   * Sends run one after another. @platformatic/kafka 1.35 assigns idempotent sequence numbers
   * per send() call, and concurrent calls corrupt them: single-message sends in parallel were all
   * acknowledged while only one message was written (silent loss, upstream issue
   * platformatic/kafka#326), and parallel batches failed with OUT_OF_ORDER_SEQUENCE_NUMBER and
   * poisoned the producer. A send that waited past its deadline is never started.
   */
  async send(topic: string, messages: KafkaMessage[]): Promise<void> {
    if (this.#state !== 'connected') throw notConnected('send');
    if (messages.length === 0) return;
    const deadline = Date.now() + this.#timeoutMs;
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => (release = r));
    let sending: Promise<unknown> | undefined;
    try {
      await withDeadline(previous, this.#timeoutMs, () => this.#timeout(topic));
      const left = deadline - Date.now();
      if (left <= 0) throw this.#timeout(topic);
      sending = this.#producer.send({
        messages: messages.map((m) => ({
          topic,
          key: m.key === null ? undefined : toBuffer(m.key),
          // A tombstone: the library writes a null value as length -1, but its option schema wants the property present.
          value: m.value === null ? (null as unknown as Buffer) : toBuffer(m.value),
          ...(m.headers ? { headers: new Map(Object.entries(m.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])) } : {}),
        })),
      });
      await withDeadline(sending, left, () => this.#timeout(topic));
    } catch (e) {
      if (SESSION_LOST.some((id) => hasApiId(e, id))) throw this.#resetSession(e, topic);
      throw toKafkaError(e, `send to ${topic}`);
    } finally {
      // The next send starts only once this one (and the one before) settled on the wire, even
      // when the caller stopped waiting: an overlapping idempotent send is what corrupts sequences.
      void Promise.allSettled([previous, sending]).then(() => release());
    }
  }

  /**
   * The broker lost or rejected our idempotent session (broker restart, producer id expiry,
   * a sequence gap). @platformatic/kafka 1.35 keeps using the dead session and every later send
   * fails (upstream issue platformatic/kafka#309), so start a new producer with a new id. The
   * failed messages may or may not be written: the caller resends (at-least-once).
   */
  #resetSession(e: unknown, topic: string): KafkaClientError {
    const old = this.#producer;
    this.#producer = this.#newProducer();
    old.close(true, () => undefined);
    this.#logger.warn({ err: e, topic }, 'idempotent producer session lost; new session started');
    return new KafkaClientError('KAFKA_PRODUCER_RESET', `send to ${topic}: producer session lost, resend`, { retriable: true, cause: e });
  }

  #timeout(topic: string): KafkaClientError {
    return new KafkaClientError('KAFKA_TIMEOUT', `send to ${topic}: no acks within ${this.#timeoutMs} ms`, { retriable: true });
  }

  async disconnect(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await this.#producer.close().catch((e: unknown) => this.#logger.debug({ err: e }, 'producer close'));
  }
}

const EARLIEST = -2n;
const LATEST = -1n;

export class PlatformaticTopicAdmin implements TopicAdmin {
  readonly #admin: Admin;

  constructor(brokers: string[], options: { clientId?: string; logger?: Logger } = {}) {
    validateBrokers(brokers);
    this.#admin = new Admin({ clientId: options.clientId ?? 'pintrace-admin', bootstrapBrokers: brokers, strict: true });
  }

  async ensureTopic(topic: string, partitions: number, config: Record<string, string> = {}): Promise<void> {
    try {
      const existing = await this.#admin.listTopics();
      if (existing.includes(topic)) return;
      // The typings allow `configs` here but the library's option schema rejects it:
      // create first, then set the configs.
      await this.#admin.createTopics({ topics: [topic], partitions, replicas: -1 });
      const configs = Object.entries(config);
      if (configs.length > 0) {
        await this.#admin.incrementalAlterConfigs({
          resources: [
            {
              resourceType: ConfigResourceTypes.TOPIC,
              resourceName: topic,
              configs: configs.map(([name, value]) => ({ name, value, configOperation: IncrementalAlterConfigOperationTypes.SET })),
            },
          ],
        });
      }
    } catch (e) {
      const err = toKafkaError(e, `ensureTopic ${topic}`);
      if (/TOPIC_ALREADY_EXISTS/.test(JSON.stringify(String((e as Error).message))) || hasApiId(e, 'TOPIC_ALREADY_EXISTS')) return;
      throw err;
    }
    await this.#waitForLeaders(topic, partitions);
  }

  /** createTopics returns before every partition has a leader; a produce right after may fail. */
  async #waitForLeaders(topic: string, partitions: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const md = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
        const t = md.topics.get(topic);
        if (t && t.partitionsCount >= partitions && t.partitions.every((p) => p.leader >= 0)) return;
      } catch {
        // not visible yet
      }
      if (Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async endOffsets(topic: string): Promise<Array<{ partition: number; offset: string }>> {
    try {
      const md = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
      const count = md.topics.get(topic)?.partitionsCount ?? 0;
      const res = await this.#admin.listOffsets({
        topics: [{ name: topic, partitions: Array.from({ length: count }, (_, i) => ({ partitionIndex: i, timestamp: LATEST })) }],
      });
      return res
        .flatMap((t) => t.partitions.map((p) => ({ partition: p.partitionIndex, offset: p.offset.toString() })))
        .sort((a, b) => a.partition - b.partition);
    } catch (e) {
      throw toKafkaError(e, `endOffsets ${topic}`);
    }
  }

  async groupOffsets(groupId: string, topic: string): Promise<Array<{ partition: number; offset: string }>> {
    try {
      const md = await this.#admin.metadata({ topics: [topic] });
      const count = md.topics.get(topic)?.partitionsCount ?? 0;
      const partitionIndexes = Array.from({ length: count }, (_, i) => i);
      const res = await this.#admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes }] }] });
      const t = res.find((g) => g.groupId === groupId)?.topics.find((x) => x.name === topic);
      return (t?.partitions ?? [])
        .map((p) => ({ partition: p.partitionIndex, offset: p.committedOffset.toString() }))
        .sort((a, b) => a.partition - b.partition);
    } catch (e) {
      throw toKafkaError(e, `groupOffsets ${groupId} ${topic}`);
    }
  }

  async close(): Promise<void> {
    await this.#admin.close().catch(() => undefined);
  }
}

function hasApiId(e: unknown, apiId: string): boolean {
  const f = (e as { findBy?: (k: string, v: unknown) => unknown } | null)?.findBy;
  return typeof f === 'function' && f.call(e, 'apiId', apiId) != null;
}

export { EARLIEST, LATEST };
