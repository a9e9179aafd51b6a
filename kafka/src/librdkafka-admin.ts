/**
 * TopicAdmin implemented with librdkafka, through the KafkaJS-compatible admin of
 * @confluentinc/kafka-javascript. Its connect() only creates the client (librdkafka connects
 * lazily), so ours asks for the topic list once: a broker that is down, or that refuses our
 * credentials or certificate, shows on the first call, not on some later one.
 */
import type { Logger } from '@pintrace/runtime';
import type { TopicAdmin } from './types.js';
import type { AdminOptions } from './factory.js';
import { authenticationError, KafkaClientError } from './errors.js';
import { kafkaLogger } from './log.js';
import { validateBrokers } from './options.js';
import { AuthWatch, bindingLogger, librdkafkaSecurityConfig, rdError, requireLibrdkafka, RD_LOG_LEVEL, type RdModule } from './librdkafka-base.js';

/** Deadline of one admin request (librdkafka's own timeout of the call). */
const ADMIN_TIMEOUT_MS = 10_000;

/** Each client's requests not yet answered or timed out (see disconnectWhenIdle). */
const unanswered = new WeakMap<CompatAdmin, Set<Promise<unknown>>>();

/**
 * Disconnects a client once its requests have settled. The binding's admin disconnect is
 * synchronous, and librdkafka's destroy waits for the requests in flight: disconnecting right
 * after a refused password (whose first request runs on to its 10 s timeout) blocked the event
 * loop for 9.6 s.
 */
async function disconnectWhenIdle(admin: CompatAdmin): Promise<void> {
  const waiting = unanswered.get(admin);
  if (waiting !== undefined && waiting.size > 0) await Promise.allSettled([...waiting]);
  await admin.disconnect().catch(() => undefined);
}

interface CompatAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(options?: { timeout?: number }): Promise<string[]>;
  createTopics(options: {
    timeout?: number;
    topics: Array<{ topic: string; numPartitions: number; replicationFactor: number; configEntries: Array<{ name: string; value: string }> }>;
  }): Promise<boolean>;
  fetchTopicOffsets(topic: string, options?: { timeout?: number }): Promise<Array<{ partition: number; high: string; low: string; offset: string }>>;
  fetchOffsets(options: {
    groupId: string;
    topics: string[];
    timeout?: number;
  }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

export class LibrdkafkaTopicAdmin implements TopicAdmin {
  readonly #rd: RdModule;
  readonly #newAdmin: () => CompatAdmin;
  #admin: CompatAdmin;
  #adminStarted = false;
  readonly #logger: Logger;
  readonly #auth = new AuthWatch();
  #connected: Promise<void> | undefined;

  constructor(brokers: string[], options: AdminOptions = {}) {
    validateBrokers(brokers);
    this.#rd = requireLibrdkafka();
    this.#logger = kafkaLogger(options.logger);
    const kafka = new this.#rd.KafkaJS.Kafka({
      kafkaJS: {
        brokers,
        clientId: options.clientId ?? 'pintrace-admin',
        logger: bindingLogger(this.#logger, (line) => this.#auth.signal(line)),
      },
      ...librdkafkaSecurityConfig(options.security, this.#rd.features),
      log_level: RD_LOG_LEVEL,
    }) as { admin(): CompatAdmin };
    this.#newAdmin = () => kafka.admin();
    this.#admin = this.#newAdmin();
  }

  #connect(): Promise<void> {
    this.#connected ??= (async () => {
      // The layer's connect() may run once per admin object; after it failed, take a new one.
      if (!this.#adminStarted) {
        try {
          await this.#admin.connect();
        } catch (e) {
          this.#admin = this.#newAdmin();
          throw e;
        }
        this.#adminStarted = true;
      }
      // A broker that is down or refuses us shows here, on every attempt until it answers.
      await Promise.race([this.#call((a) => a.listTopics({ timeout: ADMIN_TIMEOUT_MS })), this.#auth.begin()]).finally(() => this.#auth.end());
    })().catch((e: unknown) => {
      this.#connected = undefined;
      throw this.#error(e, 'admin connect');
    });
    return this.#connected;
  }

  async ensureTopic(topic: string, partitions: number, config: Record<string, string> = {}): Promise<void> {
    await this.#connect();
    try {
      const existing = await this.#call((a) => a.listTopics({ timeout: ADMIN_TIMEOUT_MS }));
      if (existing.includes(topic)) return;
      // false when the topic existed already (a race with another creator): fine either way.
      await this.#call((a) =>
        a.createTopics({
          timeout: ADMIN_TIMEOUT_MS,
          topics: [
            { topic, numPartitions: partitions, replicationFactor: -1, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) },
          ],
        }),
      );
    } catch (e) {
      throw this.#error(firstOfAggregate(e), `ensureTopic ${topic}`);
    }
    await this.#waitForLeaders(topic, partitions);
  }

  /**
   * createTopics returns once the controller created the topic; its partitions get leaders a
   * moment later. Wait until every partition has an end offset, as kafkajs's `waitForLeaders`
   * does, so a send or consume right after ensureTopic does not meet LEADER_NOT_AVAILABLE.
   */
  async #waitForLeaders(topic: string, partitions: number): Promise<void> {
    const deadline = Date.now() + ADMIN_TIMEOUT_MS;
    for (;;) {
      const ends = await this.endOffsets(topic).catch((e: unknown) =>
        e instanceof KafkaClientError && e.retryable && Date.now() < deadline ? undefined : Promise.reject(e),
      );
      if (ends !== undefined && ends.length >= partitions) return;
      if (Date.now() >= deadline)
        throw new KafkaClientError('KAFKA_TIMEOUT', `ensureTopic ${topic}: partitions have no leader after ${ADMIN_TIMEOUT_MS} ms`, { retryable: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async endOffsets(topic: string): Promise<Array<{ partition: number; offset: string }>> {
    await this.#connect();
    try {
      const rows = await this.#call((a) => a.fetchTopicOffsets(topic, { timeout: ADMIN_TIMEOUT_MS }));
      return rows.map((r) => ({ partition: r.partition, offset: String(r.high) })).sort((a, b) => a.partition - b.partition);
    } catch (e) {
      throw this.#error(e, `endOffsets ${topic}`);
    }
  }

  async groupOffsets(groupId: string, topic: string): Promise<Array<{ partition: number; offset: string }>> {
    await this.#connect();
    try {
      const rows = await this.#call((a) => a.fetchOffsets({ groupId, topics: [topic], timeout: ADMIN_TIMEOUT_MS }));
      const t = rows.find((r) => r.topic === topic);
      let out = (t?.partitions ?? []).map((p) => ({ partition: p.partition, offset: String(p.offset) }));
      // A group that never committed on this topic comes back without the topic: every partition is "-1".
      if (out.length === 0) out = (await this.endOffsets(topic)).map((e) => ({ partition: e.partition, offset: '-1' }));
      return out.sort((a, b) => a.partition - b.partition);
    } catch (e) {
      throw this.#error(e, `groupOffsets ${groupId} ${topic}`);
    }
  }

  /**
   * Closes the client whenever it was started, also when the last attempt to reach the cluster
   * failed (a wrong password, a broker down): the started client would otherwise keep
   * reconnecting, and logging each failure, for as long as the process lives.
   */
  async close(): Promise<void> {
    const c = this.#connected;
    this.#connected = undefined;
    if (c) await c.catch(() => undefined);
    if (this.#adminStarted) await this.#retire();
  }

  /** Runs a request on the current client, counted until it settles (see disconnectWhenIdle). */
  #call<T>(request: (admin: CompatAdmin) => Promise<T>): Promise<T> {
    const admin = this.#admin;
    const answer = request(admin);
    let waiting = unanswered.get(admin);
    if (waiting === undefined) unanswered.set(admin, (waiting = new Set()));
    waiting.add(answer);
    const settled = () => waiting.delete(answer);
    answer.then(settled, settled);
    return answer;
  }

  /**
   * A fresh librdkafka client for the next call. After a broker dies, the admin client keeps
   * sending ListOffsets to the leader it has cached, and it does not refresh that cache by itself
   * for minutes (measured on a three-broker cluster with the leader SIGKILLed: every call timed
   * out for 60 s, while a new client answered in 64 ms). A timeout therefore replaces the client;
   * close() retires it the same way. The old one is disconnected once idle.
   */
  #retire(): Promise<void> {
    const old = this.#admin;
    const started = this.#adminStarted;
    this.#admin = this.#newAdmin();
    this.#adminStarted = false;
    this.#connected = undefined;
    return started ? disconnectWhenIdle(old) : Promise.resolve();
  }

  #error(e: unknown, context: string): KafkaClientError {
    if (e instanceof KafkaClientError) return e;
    const err = rdError(this.#rd, e, context);
    if (err.code === 'KAFKA_TIMEOUT' || err.code === 'KAFKA_CONNECTION') void this.#retire();
    if ((err.code === 'KAFKA_TIMEOUT' || err.code === 'KAFKA_CONNECTION' || err.code === 'KAFKA_PROTOCOL') && this.#auth.last !== undefined) {
      return authenticationError(this.#auth.last, e);
    }
    return err;
  }
}

/** createTopics rejects with an aggregate of per-topic errors; the first one tells what happened. */
function firstOfAggregate(e: unknown): unknown {
  const errors = (e as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const first = errors[0] as { cause?: unknown };
    return first.cause ?? first;
  }
  return e;
}
