/**
 * The consumer implemented with @platformatic/kafka ~1.35.
 *
 * The library's own MessagesStream hands over single messages, pauses only the whole stream and
 * has no way to go back to an offset, so a failed handler would lose its batch. We use the
 * library for what it does well (group membership with heartbeats on a timer, rebalances,
 * the Fetch / OffsetFetch / OffsetCommit requests) and run our own fetch loop:
 *
 *   join → positions from committed offsets (else earliest/latest) → loop:
 *     Fetch the assigned, unpaused partitions from their leaders (long poll, maxWaitTime)
 *     → per partition, one batch to the handler → on success, advance the position;
 *       on failure, keep it (the batch comes again after a backoff).
 *
 * A rebalance bumps a generation counter: a fetch or handler result of an older generation does
 * not move any position, and the new assignment starts again from the committed offsets.
 */
import { Consumer } from '@platformatic/kafka';
import type { Logger } from '@pintrace/runtime';
import type { ConsumedBatch, ConsumedMessage, ConsumerOptions, SpanConsumer, TopicPartition } from './types.js';
import { configError, KafkaClientError, notConnected, toKafkaError } from './errors.js';
import { kafkaLogger } from './log.js';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_BYTES_PER_PARTITION,
  DEFAULT_MAX_WAIT_TIME_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  validateConsumerOptions,
} from './options.js';
import { EARLIEST, LATEST } from './platformatic.js';

const IS_CONTROL_BATCH = 0b10_0000;
const OFFSET_OUT_OF_RANGE = 1;
const MAX_BACKOFF_MS = 30_000;

type Handler = (batch: ConsumedBatch) => Promise<void>;
const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

interface GroupAssignment {
  topic: string;
  partitions: number[];
}

export class PlatformaticSpanConsumer implements SpanConsumer {
  readonly #options: ConsumerOptions;
  readonly #consumer: Consumer;
  readonly #logger: Logger;
  readonly #maxBytesPerPartition: number;
  #assigned: TopicPartition[] = [];
  /** Next offset to fetch per assigned partition; absent until loaded after a join. */
  #positions = new Map<string, bigint>();
  readonly #paused = new Set<string>();
  #generation = 0;
  #positionsGeneration = -1;
  readonly #rebalanceListeners: Array<(assigned: TopicPartition[]) => void> = [];
  readonly #errorListeners: Array<(error: Error) => void> = [];
  #state: 'new' | 'connected' | 'running' | 'closed' = 'new';
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: ConsumerOptions) {
    validateConsumerOptions(options);
    this.#options = options;
    this.#logger = kafkaLogger(options.logger);
    this.#maxBytesPerPartition = options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION;
    const sessionTimeout = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.#consumer = new Consumer({
      clientId: options.clientId ?? 'pintrace-consumer',
      bootstrapBrokers: options.brokers,
      groupId: options.groupId,
      autocommit: false,
      sessionTimeout,
      rebalanceTimeout: Math.max(60_000, sessionTimeout),
      heartbeatInterval: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      maxWaitTime: options.maxWaitTimeMs ?? DEFAULT_MAX_WAIT_TIME_MS,
      maxBytesPerPartition: this.#maxBytesPerPartition,
      minBytes: 1,
      timeout: Math.max(10_000, (options.maxWaitTimeMs ?? DEFAULT_MAX_WAIT_TIME_MS) + 5_000),
      autocreateTopics: false,
      strict: true,
    });
    this.#consumer.on('consumer:group:join', (p: { assignments?: GroupAssignment[] }) => this.#onJoin(p.assignments ?? []));
    this.#consumer.on('consumer:group:leave', () => this.#onJoin([]));
    this.#consumer.on('consumer:heartbeat:error', (p: { error: Error }) =>
      this.#logger.warn({ err: p.error, group: options.groupId }, 'heartbeat failed'),
    );
    // Errors the library cannot attach to a call (a failed re-join) arrive here.
    this.#consumer.on('error', (e: Error) => this.#emitError(toKafkaError(e, `consumer ${options.groupId}`)));
  }

  async connect(): Promise<void> {
    if (this.#state !== 'new') {
      if (this.#state === 'closed') throw notConnected('consumer was disconnected');
      return;
    }
    try {
      for (const t of this.#options.topics) this.#consumer.topics.track(t);
      await this.#consumer.joinGroup({});
      this.#state = 'connected';
    } catch (e) {
      throw toKafkaError(e, `consumer ${this.#options.groupId} connect`);
    }
  }

  async run(handler: Handler): Promise<void> {
    if (this.#state === 'running') throw configError('run() was already called on this consumer');
    if (this.#state !== 'connected') throw notConnected('run');
    this.#state = 'running';
    this.#loop = this.#fetchLoop(handler).catch((e: unknown) => {
      this.#emitError(toKafkaError(e, `consumer ${this.#options.groupId} stopped`));
    });
  }

  #onJoin(assignments: GroupAssignment[]): void {
    const assigned: TopicPartition[] = [];
    for (const a of assignments) for (const partition of [...a.partitions].sort((x, y) => x - y)) assigned.push({ topic: a.topic, partition });
    assigned.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    this.#generation++;
    this.#assigned = assigned;
    this.#positions = new Map();
    this.#wake?.();
    for (const l of this.#rebalanceListeners) {
      try {
        l(this.assignment());
      } catch (e) {
        this.#logger.warn({ err: e }, 'rebalance listener threw');
      }
    }
  }

  /** Start positions of the current assignment: committed offsets, else earliest or latest. */
  async #loadPositions(generation: number): Promise<void> {
    const byTopic = new Map<string, number[]>();
    for (const tp of this.#assigned) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    const committed = await this.#consumer.listCommittedOffsets({ topics });
    const positions = new Map<string, bigint>();
    const missing: TopicPartition[] = [];
    for (const { topic, partitions } of topics) {
      const offs = committed.get(topic) ?? [];
      for (const p of partitions) {
        const o = offs[p];
        if (o !== undefined && o >= 0n) positions.set(keyOf(topic, p), o);
        else missing.push({ topic, partition: p });
      }
    }
    if (missing.length > 0) {
      for (const [tp, o] of await this.#resetOffsets(missing)) positions.set(tp, o);
    }
    if (generation === this.#generation) {
      this.#positions = positions;
      this.#positionsGeneration = generation;
    }
  }

  async #resetOffsets(partitions: TopicPartition[]): Promise<Map<string, bigint>> {
    const timestamp = (this.#options.fromBeginning ?? true) ? EARLIEST : LATEST;
    const topics = [...new Set(partitions.map((p) => p.topic))];
    const res = await this.#consumer.listOffsets({ topics, timestamp });
    const out = new Map<string, bigint>();
    for (const { topic, partition } of partitions) {
      const o = res.get(topic)?.[partition];
      out.set(keyOf(topic, partition), o ?? 0n);
    }
    return out;
  }

  async #fetchLoop(handler: Handler): Promise<void> {
    let failures = 0;
    while (this.#state === 'running') {
      const generation = this.#generation;
      try {
        if (this.#assigned.length === 0) {
          await this.#idle(1_000);
          continue;
        }
        if (this.#positionsGeneration !== generation) {
          await this.#loadPositions(generation);
          continue;
        }
        const active = this.#assigned.filter((tp) => !this.#paused.has(keyOf(tp.topic, tp.partition)));
        if (active.length === 0) {
          await this.#idle(1_000);
          continue;
        }
        const handled = await this.#fetchOnce(active, generation, handler);
        failures = handled ? 0 : failures + 1;
        if (!handled) await this.#idle(backoff(failures));
      } catch (e) {
        if (this.#state !== 'running') return;
        failures++;
        const err = toKafkaError(e, `consumer ${this.#options.groupId} fetch`);
        if (!err.retriable && failures > 10) throw err;
        this.#logger.warn({ err, code: err.code, failures }, 'fetch failed; retrying');
        await this.#idle(backoff(failures));
      }
    }
  }

  /** One Fetch round over the active partitions; false when a handler failed. */
  async #fetchOnce(active: TopicPartition[], generation: number, handler: Handler): Promise<boolean> {
    const metadata = await this.#consumer.metadata({ topics: this.#options.topics });
    const byLeader = new Map<number, Array<{ topicId: string; partitions: Array<{ partition: number; fetchOffset: bigint; partitionMaxBytes: number; currentLeaderEpoch: number; lastFetchedEpoch: number }> }>>();
    const topicNames = new Map<string, string>();
    for (const { topic, partition } of active) {
      const t = metadata.topics.get(topic);
      const leader = t?.partitions[partition]?.leader;
      const fetchOffset = this.#positions.get(keyOf(topic, partition));
      if (!t || leader === undefined || leader < 0 || fetchOffset === undefined) continue;
      topicNames.set(t.id, topic);
      const list = byLeader.get(leader) ?? [];
      list.push({ topicId: t.id, partitions: [{ partition, fetchOffset, partitionMaxBytes: this.#maxBytesPerPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] });
      byLeader.set(leader, list);
    }
    if (byLeader.size === 0) {
      await this.#idle(500);
      return true;
    }
    const responses = await Promise.all(
      [...byLeader].map(([node, topics]) =>
        this.#consumer.fetch({ node, topics }).catch((e: unknown) => this.#onFetchError(e, generation)),
      ),
    );
    let ok = true;
    for (const response of responses) {
      if (!response) continue;
      for (const t of response.responses) {
        const topic = topicNames.get(t.topicId);
        if (topic === undefined) continue;
        for (const p of t.partitions) {
          if (this.#state !== 'running' || generation !== this.#generation) return true;
          const k = keyOf(topic, p.partitionIndex);
          if (this.#paused.has(k)) continue; // paused while fetching: fetched again after resume
          const from = this.#positions.get(k);
          if (from === undefined || !p.records) continue;
          const { messages, next } = toMessages(topic, p.partitionIndex, p.records, from);
          if (messages.length > 0) {
            try {
              await handler({ topic, partition: p.partitionIndex, highWatermark: p.highWatermark.toString(), messages });
            } catch (e) {
              this.#logger.warn({ err: e, topic, partition: p.partitionIndex, offset: from.toString() }, 'batch handler failed; batch comes again');
              ok = false;
              continue;
            }
          }
          if (generation === this.#generation && next > from) this.#positions.set(k, next);
        }
      }
    }
    return ok;
  }

  /** A fetch error with per-partition codes: reset partitions whose offset is out of range. */
  async #onFetchError(e: unknown, generation: number): Promise<undefined> {
    const response = (e as { response?: { responses?: Array<{ topicId: string; partitions: Array<{ partitionIndex: number; errorCode: number }> }> } }).response;
    const metadata = await this.#consumer.metadata({ topics: this.#options.topics });
    const names = new Map([...metadata.topics].map(([name, t]) => [t.id, name]));
    const outOfRange: TopicPartition[] = [];
    for (const t of response?.responses ?? []) {
      for (const p of t.partitions) {
        const topic = names.get(t.topicId);
        if (topic !== undefined && p.errorCode === OFFSET_OUT_OF_RANGE) outOfRange.push({ topic, partition: p.partitionIndex });
      }
    }
    if (outOfRange.length === 0) throw e;
    const reset = await this.#resetOffsets(outOfRange);
    this.#logger.warn({ partitions: outOfRange }, 'fetch offset out of range; reset');
    if (generation === this.#generation) for (const [k, o] of reset) this.#positions.set(k, o);
    return undefined;
  }

  #idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  async commit(offsets: Array<TopicPartition & { offset: string }>): Promise<void> {
    if (this.#state !== 'running' && this.#state !== 'connected') throw notConnected('commit');
    // A partition that moved to another member is not ours to commit: its new owner re-reads
    // from the last commit (at-least-once), and a late commit could move its offset backwards.
    const owned = new Set(this.#assigned.map((tp) => keyOf(tp.topic, tp.partition)));
    const mine = offsets.filter((o) => owned.has(keyOf(o.topic, o.partition)));
    if (mine.length < offsets.length) {
      this.#logger.debug({ skipped: offsets.length - mine.length }, 'commit skipped for partitions no longer assigned');
    }
    if (mine.length === 0) return;
    try {
      await this.#consumer.commit({
        offsets: mine.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 })),
      });
    } catch (e) {
      throw toKafkaError(e, `commit of group ${this.#options.groupId}`);
    }
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#paused.add(keyOf(tp.topic, tp.partition));
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#paused.delete(keyOf(tp.topic, tp.partition));
    this.#wake?.();
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
    this.#state = 'closed';
    this.#wake?.();
    // The loop ends after the current long poll (maxWaitTime) and handler.
    await this.#loop;
    await this.#consumer.close().catch((e: unknown) => this.#logger.debug({ err: e }, 'consumer close'));
    this.#assigned = [];
    this.#positions = new Map();
  }

  #emitError(error: KafkaClientError): void {
    if (this.#state === 'closed') return;
    if (this.#errorListeners.length === 0) {
      this.#logger.error({ err: error, code: error.code }, error.message);
      return;
    }
    for (const l of this.#errorListeners) l(error);
  }
}

const backoff = (failures: number): number => Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 8));

interface RecordBatchLike {
  firstOffset: bigint;
  lastOffsetDelta: number;
  firstTimestamp: bigint;
  attributes: number;
  records: Array<{ offsetDelta: number; timestampDelta: bigint; key: Buffer | null; value: Buffer | null; headers: [Buffer | null, Buffer | null][] }>;
}

/** Messages at or after `from` (a fetch may start inside a record batch), and the next position. */
export function toMessages(topic: string, partition: number, batches: RecordBatchLike[], from: bigint): { messages: ConsumedMessage[]; next: bigint } {
  const messages: ConsumedMessage[] = [];
  let next = from;
  for (const b of batches) {
    const last = b.firstOffset + BigInt(b.lastOffsetDelta);
    if (last + 1n > next) next = last + 1n;
    if (b.attributes & IS_CONTROL_BATCH) continue;
    for (const r of b.records) {
      const offset = b.firstOffset + BigInt(r.offsetDelta);
      if (offset < from) continue;
      const m: ConsumedMessage = {
        topic,
        partition,
        offset: offset.toString(),
        key: r.key ?? null,
        value: r.value ?? null,
        timestamp: (b.firstTimestamp + r.timestampDelta).toString(),
      };
      if (r.headers.length > 0) {
        m.headers = {};
        for (const [hk, hv] of r.headers) if (hk) m.headers[hk.toString()] = hv ? hv.toString() : '';
      }
      messages.push(m);
    }
  }
  return { messages, next };
}
