/**
 * The consumer implemented with librdkafka, on the binding's native `KafkaConsumer`: librdkafka
 * fetches, decompresses and heartbeats on its own threads; a small loop here takes what it
 * fetched and hands it to the handler, one partition's batch at a time.
 *
 * Why the native API and not the binding's KafkaJS-compatible layer: that layer loses partitions
 * when they are paused and resumed (measured: with all partitions paused and resumed every 100 ms,
 * two of three partitions were never delivered again; the collector's backpressure does exactly
 * this), and it re-delivers a batch whose partition was paused while the handler ran. Here pause
 * and resume keep their position by construction (below).
 *
 * The loop: `consume(MAX_BATCH_MESSAGES)` returns what librdkafka has fetched (waiting up to
 * `maxWaitTimeMs` for the first message); messages are appended to one buffer per partition; then
 * every partition that is not paused and has buffered messages gets one batch (≤ MAX_BATCH_MESSAGES)
 * handed over, in turn, each awaited; then consume again.
 * - Pause: librdkafka stops fetching the partition and drops what it had fetched beyond what we
 *   consumed; on resume it fetches again from the offset after the last message consume() gave
 *   us. Messages already in our buffer stay there and are handed over after resume: no gap, no
 *   duplicate. A buffer holds at most one consume() worth of messages.
 * - Handler failure: the batch stays at the head of its buffer and is handed over again after a
 *   backoff (0.5 s doubling to 30 s), as kafkajs restarts its consumer after a backoff. Meanwhile
 *   its partition is paused in librdkafka (a partition whose buffer is not empty after a round
 *   always is), so the buffer does not grow while the loop keeps calling consume() for the others
 *   and for the group's callbacks.
 * - Rebalance: librdkafka calls back only inside consume(), never while a handler runs. On
 *   revocation the revoked partitions' buffers are dropped (the next owner reads them from the
 *   last commit: at-least-once, as with every client); on assignment librdkafka starts from the
 *   committed offsets (else `auto.offset.reset`).
 * - Commits are explicit (`enable.auto.commit=false`, `enable.auto.offset.store=false`); nothing is
 *   committed on disconnect.
 * - Heartbeats are librdkafka's; a handler must return within `max.poll.interval.ms` (5 min), else
 *   librdkafka leaves the group and the partitions go to another member.
 * - The classic group protocol with the round-robin assignor, which every broker we support speaks.
 */
import type { Logger } from '@pintrace/runtime';
import type { ConsumedBatch, ConsumedMessage, ConsumerOptions, SpanConsumer, TopicPartition } from './types.js';
import { authenticationError, configError, KafkaClientError, notConnected } from './errors.js';
import { ConsumerListeners } from './consumer-listeners.js';
import { kafkaLogger } from './log.js';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_BYTES_PER_PARTITION,
  DEFAULT_MAX_WAIT_TIME_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  validateConsumerOptions,
} from './options.js';
import { AuthWatch, librdkafkaSecurityConfig, rdError, rdErrorName, rdLogForwarder, requireLibrdkafka } from './librdkafka-base.js';
import type { RdError, RdLog, RdModule } from './librdkafka-base.js';

/** Messages per consume() call and per batch handed to the handler. */
export const MAX_BATCH_MESSAGES = 2000;
/** Longest connect() waits for the first metadata answer. */
const CONNECT_TIMEOUT_MS = 30_000;
/** librdkafka's limit between two consume() calls; a handler must return within it. */
const MAX_POLL_INTERVAL_MS = 300_000;

/** A message as the native binding delivers it. */
interface RdMessage {
  topic: string;
  partition: number;
  offset: number;
  key?: Buffer | string | null;
  value: Buffer | null;
  timestamp?: number;
  headers?: Array<Record<string, Buffer | string>>;
}
/** The part of the binding's native KafkaConsumer we use. */
interface RdConsumer {
  connect(options: { timeout?: number }, cb: (err: RdError | null) => void): void;
  disconnect(cb: (err: RdError | null) => void): void;
  subscribe(topics: string[]): void;
  consume(count: number, cb: (err: RdError | null, messages: RdMessage[]) => void): void;
  setDefaultConsumeTimeout(ms: number): void;
  setDefaultIsTimeoutOnlyForFirstMessage(on: boolean): void;
  assign(tps: TopicPartition[]): void;
  unassign(): void;
  incrementalAssign(tps: TopicPartition[]): void;
  incrementalUnassign(tps: TopicPartition[]): void;
  rebalanceProtocol(): string;
  pause(tps: TopicPartition[]): void;
  resume(tps: TopicPartition[]): void;
  commitCb(tps: Array<TopicPartition & { offset: number }>, cb: (err: RdError | null) => void): void;
  getWatermarkOffsets(topic: string, partition: number): { highOffset?: number; lowOffset?: number };
  isConnected(): boolean;
  on(event: 'event.error', cb: (err: RdError) => void): void;
  on(event: 'event.log', cb: (log: RdLog) => void): void;
}
type RdConsumerClass = new (conf: Record<string, unknown>, topicConf: Record<string, unknown>) => RdConsumer;

const key = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

function toMessage(m: RdMessage): ConsumedMessage {
  const out: ConsumedMessage = {
    topic: m.topic,
    partition: m.partition,
    offset: String(m.offset),
    key: m.key === undefined || m.key === null ? null : typeof m.key === 'string' ? Buffer.from(m.key) : m.key,
    value: m.value,
    timestamp: String(m.timestamp ?? ''),
  };
  if (m.headers && m.headers.length > 0) {
    const headers: Record<string, string> = {};
    // One single-key object per header; a repeated name keeps its last value, as with kafkajs.
    for (const h of m.headers) for (const [k, v] of Object.entries(h)) headers[k] = v.toString();
    out.headers = headers;
  }
  return out;
}

export class LibrdkafkaSpanConsumer implements SpanConsumer {
  readonly #rd: RdModule;
  readonly #options: ConsumerOptions;
  readonly #logger: Logger;
  readonly #consumer: RdConsumer;
  readonly #auth = new AuthWatch();
  /** Fetched, not yet handed over, per partition (key of topic and partition). */
  readonly #buffers = new Map<string, RdMessage[]>();
  /** Paused by the caller. */
  readonly #paused = new Set<string>();
  /** Paused in librdkafka: by the caller, or because the partition's buffer still holds messages. */
  readonly #rdPaused = new Set<string>();
  #assigned: TopicPartition[] = [];
  readonly #listeners: ConsumerListeners;
  #state: 'new' | 'connecting' | 'connected' | 'running' | 'closed' = 'new';
  #loop: Promise<void> | undefined;
  #failures = 0;
  #lastErrorLog = 0;
  #wake: (() => void) | undefined;

  constructor(options: ConsumerOptions) {
    validateConsumerOptions(options);
    this.#rd = requireLibrdkafka();
    this.#options = options;
    this.#logger = kafkaLogger(options.logger);
    this.#listeners = new ConsumerListeners(this.#logger);
    const sessionTimeout = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    const Consumer = (this.#rd as unknown as { KafkaConsumer: RdConsumerClass }).KafkaConsumer;
    this.#consumer = new Consumer(
      {
        ...librdkafkaSecurityConfig(options.security, this.#rd.features),
        'bootstrap.servers': options.brokers.join(','),
        'client.id': options.clientId ?? 'pintrace-consumer',
        'group.id': options.groupId,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'session.timeout.ms': sessionTimeout,
        'heartbeat.interval.ms': options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
        'max.poll.interval.ms': Math.max(MAX_POLL_INTERVAL_MS, sessionTimeout),
        'max.partition.fetch.bytes': options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION,
        'fetch.wait.max.ms': options.maxWaitTimeMs ?? DEFAULT_MAX_WAIT_TIME_MS,
        'allow.auto.create.topics': false,
        // A topic subscribed to before anyone wrote it (a collector started before its agents)
        // is only seen at the next metadata refresh: librdkafka's default 5 min left a new
        // collector idle that long; every 5 s costs one small request.
        'topic.metadata.refresh.interval.ms': 5000,
        'partition.assignment.strategy': 'roundrobin',
        // librdkafka's own read-ahead is bounded too (default 64 MiB in total). The loop's buffers
        // already hold up to a consume() per partition, so a deep read-ahead only holds the same
        // bytes twice: the bench/collector burst peaked at 214-250 MB RSS with 16 MiB here and
        // 218-221 MB with 4 MiB, at the same spans/s.
        'queued.max.messages.kbytes': 4 * 1024,
        rebalance_cb: (err: RdError, assignment: TopicPartition[]) => this.#onRebalance(err, assignment),
      },
      // A topic property: the binding ignores it in the global configuration (measured: the group
      // then started at the end of the topic).
      { 'auto.offset.reset': (options.fromBeginning ?? true) ? 'earliest' : 'latest' },
    );
    this.#consumer.on('event.error', (err) => this.#onClientError(err));
    // librdkafka reports a refused login or certificate as a log line, not as an error event.
    const forward = rdLogForwarder(() => this.#logger);
    this.#consumer.on('event.log', (log) => {
      this.#auth.signal(log.message);
      forward(log);
    });
  }

  async connect(): Promise<void> {
    if (this.#state !== 'new') {
      if (this.#state === 'closed') throw notConnected('consumer was disconnected');
      return;
    }
    this.#state = 'connecting';
    const connected = new Promise<void>((resolve, reject) => {
      this.#consumer.connect({ timeout: CONNECT_TIMEOUT_MS }, (err) => (err ? reject(err) : resolve()));
    });
    try {
      await Promise.race([connected, this.#auth.begin()]).finally(() => this.#auth.end());
      this.#consumer.subscribe(this.#options.topics);
      this.#state = 'connected';
    } catch (e) {
      connected.catch(() => undefined);
      this.#state = 'closed';
      void this.#close();
      if (e instanceof KafkaClientError) throw e;
      if (this.#auth.last !== undefined) throw authenticationError(this.#auth.last, e);
      throw rdError(this.#rd, e, `consumer ${this.#options.groupId} connect`);
    }
  }

  async run(handler: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    if (this.#state === 'running') throw configError('run() was already called on this consumer');
    if (this.#state !== 'connected') throw notConnected('run');
    this.#state = 'running';
    // The first message ends a consume() at once; without one it returns after maxWaitTimeMs.
    this.#consumer.setDefaultConsumeTimeout(this.#options.maxWaitTimeMs ?? DEFAULT_MAX_WAIT_TIME_MS);
    this.#consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.#loop = this.#run(handler).catch((e: unknown) => {
      this.#listeners.failed(rdError(this.#rd, e, `consumer ${this.#options.groupId} stopped`));
    });
  }

  async #run(handler: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    while (this.#state === 'running') {
      const messages = await this.#consume();
      for (const m of messages) {
        const k = key(m);
        const buffer = this.#buffers.get(k);
        // A message of a partition revoked in this same consume() is not ours any more.
        if (buffer) buffer.push(m);
      }
      for (const [k, buffer] of this.#buffers) {
        if (this.#state !== 'running') return;
        if (buffer.length === 0 || this.#paused.has(k)) continue;
        await this.#deliver(buffer, handler);
      }
      for (const k of this.#buffers.keys()) this.#syncPause(k);
    }
  }

  /** Pauses or resumes the partition in librdkafka: paused while the caller wants it or its buffer is not empty. */
  #syncPause(k: string): void {
    const buffer = this.#buffers.get(k);
    if (buffer === undefined) return;
    const want = this.#paused.has(k) || buffer.length > 0;
    if (want === this.#rdPaused.has(k) || !this.#consumer.isConnected()) return;
    const [topic, partition] = k.split('\u0000') as [string, string];
    const tp = [{ topic, partition: Number(partition) }];
    try {
      if (want) this.#consumer.pause(tp);
      else this.#consumer.resume(tp);
      if (want) this.#rdPaused.add(k);
      else this.#rdPaused.delete(k);
    } catch (e) {
      this.#logger.warn({ err: e, topic, partition }, want ? 'pause failed' : 'resume failed');
    }
  }

  #consume(): Promise<RdMessage[]> {
    return new Promise((resolve) => {
      this.#consumer.consume(MAX_BATCH_MESSAGES, (err, messages) => {
        if (err) {
          // Errors of a consume() are reported (and retried) by librdkafka itself; back off a little.
          this.#onClientError(err);
          void sleep(100).then(() => resolve([]));
          return;
        }
        resolve(messages ?? []);
      });
    });
  }

  /** Hands the head of `buffer` over; removes it once the handler succeeded. */
  async #deliver(buffer: RdMessage[], handler: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    const head = buffer.slice(0, MAX_BATCH_MESSAGES);
    const first = head[0]!;
    const last = head[head.length - 1]!;
    const batch: ConsumedBatch = {
      topic: first.topic,
      partition: first.partition,
      highWatermark: this.#highWatermark(first.topic, first.partition, last.offset + 1),
      messages: head.map(toMessage),
    };
    try {
      await handler(batch);
    } catch (e) {
      this.#failures++;
      const waitMs = Math.min(30_000, 500 * 2 ** Math.min(this.#failures - 1, 6));
      this.#logger.warn({ err: e, topic: first.topic, partition: first.partition, retryInMs: waitMs }, 'batch handler failed; the batch is handed over again');
      // disconnect() cuts the backoff short.
      await Promise.race([sleep(waitMs), new Promise<void>((resolve) => (this.#wake = resolve))]);
      this.#wake = undefined;
      return;
    }
    this.#failures = 0;
    // The buffer may have been dropped by a revocation meanwhile (disconnect): then nothing to remove.
    if (buffer[0] === first) buffer.splice(0, head.length);
  }

  /** librdkafka's last known high watermark (from fetch responses); `fallback` when it knows none yet. */
  #highWatermark(topic: string, partition: number, fallback: number): string {
    try {
      const { highOffset } = this.#consumer.getWatermarkOffsets(topic, partition);
      if (typeof highOffset === 'number' && highOffset >= 0) return String(highOffset);
    } catch {
      // not known yet
    }
    return String(fallback);
  }

  async commit(offsets: Array<TopicPartition & { offset: string }>): Promise<void> {
    if (this.#state !== 'running' && this.#state !== 'connected') throw notConnected('commit');
    if (offsets.length === 0) return;
    await new Promise<void>((resolve, reject) => {
      try {
        this.#consumer.commitCb(
          offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) })),
          (err) => (err ? reject(this.#commitError(err)) : resolve()),
        );
      } catch (e) {
        reject(this.#commitError(e));
      }
    });
  }

  /** A commit refused because the group moved on is a rebalance (retryable), whatever librdkafka calls it. */
  #commitError(e: unknown): KafkaClientError {
    const err = rdError(this.#rd, e, `commit of group ${this.#options.groupId}`);
    const name = typeof (e as RdError).code === 'number' ? rdErrorName(this.#rd, (e as RdError).code) : '';
    if (name === 'ERR__STATE' || name === 'ERR__NO_OFFSET') {
      return new KafkaClientError('KAFKA_REBALANCE', err.message, { retryable: true, cause: e });
    }
    return err;
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      if (!this.#buffers.has(key(tp))) continue; // not assigned to this member
      this.#paused.add(key(tp));
      this.#syncPause(key(tp));
    }
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      if (!this.#paused.delete(key(tp))) continue;
      this.#syncPause(key(tp));
    }
  }

  assignment(): TopicPartition[] {
    return this.#assigned.map((tp) => ({ ...tp }));
  }

  onRebalance(listener: (assigned: TopicPartition[]) => void): void {
    this.#listeners.onRebalance(listener);
  }

  onError(listener: (error: Error) => void): void {
    this.#listeners.onError(listener);
  }

  async disconnect(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasConnected = this.#state !== 'new' && this.#state !== 'connecting';
    this.#state = 'closed';
    this.#wake?.();
    if (wasConnected) {
      // The loop ends after its consume() or handler; then leave the group (no commit).
      await this.#loop;
      await this.#close();
    }
    this.#buffers.clear();
    this.#setAssignment([]);
  }

  #close(): Promise<void> {
    return new Promise<void>((resolve) => {
      try {
        this.#consumer.disconnect(() => resolve());
      } catch {
        resolve(); // not connected: nothing to close
      }
    });
  }

  /**
   * librdkafka's rebalance callback (called inside consume()): applies the change, as the
   * binding's default would, and keeps our buffers and assignment in step.
   */
  #onRebalance(err: RdError, assignment: TopicPartition[]): void {
    const codes = this.#rd.CODES.ERRORS;
    const cooperative = this.#consumer.rebalanceProtocol() === 'COOPERATIVE';
    const tps = assignment.map((tp) => ({ topic: tp.topic, partition: tp.partition }));
    try {
      if (err.code === codes.ERR__ASSIGN_PARTITIONS) {
        if (cooperative) this.#consumer.incrementalAssign(tps);
        else this.#consumer.assign(tps);
        for (const tp of tps) {
          this.#buffers.set(key(tp), []);
          this.#paused.delete(key(tp));
          this.#rdPaused.delete(key(tp));
        }
        // A partition paused in an earlier assignment may still be paused in librdkafka: start fetching.
        if (tps.length > 0) this.#consumer.resume(tps);
        const have = new Set(this.#assigned.map(key));
        this.#setAssignment([...this.#assigned, ...tps.filter((tp) => !have.has(key(tp)))]);
      } else if (err.code === codes.ERR__REVOKE_PARTITIONS) {
        if (cooperative) this.#consumer.incrementalUnassign(tps);
        else this.#consumer.unassign();
        const gone = new Set(cooperative ? tps.map(key) : this.#assigned.map(key));
        for (const k of gone) {
          this.#buffers.delete(k);
          this.#paused.delete(k);
          this.#rdPaused.delete(k);
        }
        this.#setAssignment(this.#assigned.filter((tp) => !gone.has(key(tp))));
      } else {
        this.#logger.warn({ lib: 'librdkafka', err: err.message }, 'rebalance error');
      }
    } catch (e) {
      // assign/unassign throw only when the client is closing.
      if (this.#consumer.isConnected()) this.#logger.warn({ err: e }, 'rebalance could not be applied');
    }
  }

  #onClientError(err: RdError): void {
    this.#auth.signal(err.message);
    if (err.isFatal) {
      this.#listeners.failed(rdError(this.#rd, err, `consumer ${this.#options.groupId}`));
      return;
    }
    // Connection errors repeat while a broker is down and librdkafka retries them: one line every 30 s.
    const now = Date.now();
    if (now - this.#lastErrorLog < 30_000) return;
    this.#lastErrorLog = now;
    this.#logger.warn({ lib: 'librdkafka', code: rdErrorName(this.#rd, err.code), err: err.message }, 'librdkafka error (retried by the client)');
  }

  #setAssignment(assigned: TopicPartition[]): void {
    const sorted = [...assigned].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    const same =
      sorted.length === this.#assigned.length &&
      sorted.every((tp, i) => tp.topic === this.#assigned[i]?.topic && tp.partition === this.#assigned[i]?.partition);
    this.#assigned = sorted;
    if (same) return;
    this.#listeners.rebalanced(this.#assigned);
  }
}
