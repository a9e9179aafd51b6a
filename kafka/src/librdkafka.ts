/**
 * The producer implemented with librdkafka (the C client kcat and the Java-less Kafka world use),
 * through Confluent's Node binding @confluentinc/kafka-javascript (docs/decisions.md, D2, D6). The
 * consumer and admin of the same client are in librdkafka-consumer.ts and librdkafka-admin.ts.
 *
 * Why: the agent's throughput was bound by kafkajs's per-record encoding in JS on the event loop.
 * librdkafka builds, compresses and checksums record batches on its own threads, so the agent's
 * JS thread only reads, checks and groups lines; the other core does the Kafka work.
 *
 * Guarantees as the interface asks: `enable.idempotence` (which also means acks=all and ordered
 * retries without duplicates within the producer session), send() resolves once every message
 * has a successful delivery report, and fails after `requestTimeoutMs` otherwise —
 * librdkafka's own `message.timeout.ms` is that deadline, so a failed send is not completed
 * behind our back later (our backstop timer fires only if librdkafka never reports).
 * With `deliveryReports: 'drain'` only failed messages are reported and a send resolves once
 * the producer has drained (see Drain below).
 *
 * The binding is an optional dependency built from source at install (no prebuilt binary can be
 * fetched here); `librdkafkaAvailable()` tells whether it loaded.
 */
import type { Logger } from '@pintrace/runtime';
import type { KafkaMessage, ProducerOptions, SpanProducer } from './types.js';
import { authenticationError, configError, type KafkaClientError, notConnected } from './errors.js';
import { kafkaLogger } from './log.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, validateProducerOptions } from './options.js';
import { AuthWatch, librdkafkaSecurityConfig, rdError, rdErrorName, rdLogForwarder, requireLibrdkafka } from './librdkafka-base.js';
import type { RdError, RdLog, RdModule } from './librdkafka-base.js';

interface RdDeliveryReport {
  opaque?: unknown;
}
/** A metadata answer as the binding gives it (the parts we read). */
interface RdMetadata {
  topics: Array<{ name: string; partitions: Array<{ id: number; leader: number }> }>;
}
/** librdkafka's ERR__MSG_TIMED_OUT: a message was not acknowledged within message.timeout.ms. */
const MSG_TIMED_OUT = -192;
/** How long the check that follows a timed-out send waits for the cluster's answer. */
const LEADER_CHECK_TIMEOUT_MS = 5000;
/** The part of the binding's low-level Producer we use. */
interface RdProducer {
  connect(options: { timeout?: number; topic?: string }, cb: (err: RdError | null) => void): void;
  disconnect(timeout: number, cb: (err: RdError | null) => void): void;
  produce(
    topic: string,
    partition: number | null,
    value: Buffer | null,
    key?: Buffer | string | null,
    timestamp?: number | null,
    opaque?: unknown,
    headers?: Array<Record<string, string>>,
  ): unknown;
  setPollInBackground(set: boolean): void;
  flush(timeoutMs: number, cb: (err: RdError | null) => void): void;
  getMetadata(options: { topic: string; timeout: number }, cb: (err: RdError | null, metadata?: RdMetadata) => void): void;
  on(event: 'delivery-report', cb: (err: RdError | null, report: RdDeliveryReport) => void): void;
  on(event: 'event.error', cb: (err: RdError) => void): void;
  on(event: 'event.log', cb: (log: RdLog) => void): void;
}

export class LibrdkafkaSpanProducer implements SpanProducer {
  readonly #rd: RdModule;
  readonly #conf: Record<string, unknown>;
  readonly #timeoutMs: number;
  readonly #topic: string | undefined;
  readonly #logger: Logger;
  readonly #drainMode: boolean;
  #producer: RdProducer | undefined;
  #drain: Drain | undefined;
  /** Drain mode: failed-message reports seen so far (a send fails if one came while it was in flight) and the last. */
  #failedReports = 0;
  #lastFailure: RdError | undefined;
  #state: 'new' | 'connecting' | 'connected' | 'closed' = 'new';
  #connecting: Promise<void> | undefined;
  /**
   * Why the next send starts a new producer (a new idempotent session): a fatal error ended the
   * session, or messages timed out while the cluster named a leader for every partition.
   */
  #renewal: string | undefined;
  #lastErrorLog = 0;
  #auth: AuthWatch | undefined;

  constructor(options: ProducerOptions) {
    validateProducerOptions(options);
    const module = requireLibrdkafka();
    this.#rd = module;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#topic = options.topics?.[0];
    this.#drainMode = options.deliveryReports === 'drain';
    this.#logger = kafkaLogger(options.logger);
    const compression = options.compression ?? 'none';
    if (compression !== 'none' && !module.features.includes(compression)) {
      throw configError(`compression "${compression}" is not built into this librdkafka (${module.features.join(', ')}): use another codec`);
    }
    this.#conf = {
      ...librdkafkaSecurityConfig(options.security, module.features),
      'bootstrap.servers': options.brokers.join(','),
      'client.id': options.clientId ?? 'pintrace-producer',
      'enable.idempotence': true,
      acks: 'all',
      // Java's partitioner (murmur2 & 0x7fffffff) for keys, so a trace lands where kafkajs and Java
      // clients put it; messages without a key are spread at random.
      partitioner: 'murmur2_random',
      'compression.codec': compression,
      // A send() hands over a whole batch at once; 2 ms lets it fill record batches per partition
      // rather than going out message by message, and costs a trickle at most 2 ms.
      'linger.ms': 2,
      'message.timeout.ms': this.#timeoutMs,
      'allow.auto.create.topics': options.autoCreateTopics ?? true,
      'socket.nagle.disable': true,
      // The request refers to messages of 1 KiB and more instead of copying them into its buffer
      // (librdkafka copies up to 64 KiB by default): the produce() call already made a copy of
      // its own, and the second copy went into fresh memory for every request (a page fault per
      // 4 KiB on librdkafka's thread, ~3 of the agent's 4 page faults in steady state).
      'message.copy.max.bytes': 1024,
      dr_cb: true,
      ...(this.#drainMode ? { 'delivery.report.only.error': true } : {}),
    };
  }

  async connect(): Promise<void> {
    if (this.#state === 'connected') return;
    if (this.#state === 'closed') throw notConnected('producer was disconnected');
    this.#connecting ??= this.#open().then(
      () => {
        this.#state = 'connected';
      },
      (e: unknown) => {
        this.#connecting = undefined;
        this.#state = 'new';
        throw e;
      },
    );
    this.#state = 'connecting';
    return this.#connecting;
  }

  /** A new librdkafka producer, connected (its first metadata request answered). */
  #open(): Promise<void> {
    const producer = new this.#rd.Producer({ ...this.#conf }) as RdProducer;
    const auth = new AuthWatch();
    this.#auth = auth;
    producer.on(
      'delivery-report',
      this.#drainMode
        ? (err) => {
            if (!err) return;
            this.#failedReports++;
            this.#lastFailure = err;
          }
        : (err, report) => (report?.opaque as Delivery | undefined)?.report(err),
    );
    producer.on('event.error', (err) => {
      auth.signal(err.message);
      this.#onClientError(err);
    });
    // librdkafka reports a refused login or certificate as a log line, not as an error event.
    producer.on('event.log', (log) => {
      auth.signal(log.message);
      this.#rdLog(log);
    });
    const connected = new Promise<void>((resolve, reject) => {
      // connect() ends with a metadata request: for our topic only when known (the first send then
      // finds its partitions cached), else for every topic of the cluster.
      const metadata = { timeout: Math.min(this.#timeoutMs, 10_000), ...(this.#topic === undefined ? {} : { topic: this.#topic }) };
      producer.connect(metadata, (err) => {
        if (err) {
          // The binding has already closed a client whose connect failed (disconnect would throw).
          reject(auth.last !== undefined ? this.#error({ ...err, message: auth.last }, 'producer connect') : this.#error(err, 'producer connect'));
          return;
        }
        // Delivery reports are polled on librdkafka's thread and handed to the event loop as
        // they come, not on a JS timer: an acknowledgement is seen as soon as it arrives.
        producer.setPollInBackground(true);
        this.#producer = producer;
        if (this.#drainMode) this.#drain = new Drain(producer);
        this.#renewal = undefined;
        resolve();
      });
    });
    // A broker that refuses our credentials or certificate is retried by librdkafka until the
    // metadata timeout; fail on the first such complaint instead, and close the client.
    return Promise.race([connected, auth.begin()])
      .catch((e: unknown) => {
        if (this.#producer !== producer) closeQuietly(producer, 1000);
        throw e;
      })
      .finally(() => auth.end());
  }

  async send(topic: string, messages: KafkaMessage[]): Promise<void> {
    if (this.#state !== 'connected' || this.#producer === undefined) throw notConnected('send');
    if (messages.length === 0) return;
    if (this.#renewal !== undefined) await this.#renew();
    if (this.#drainMode) return this.#sendDrained(topic, messages);
    const producer = this.#producer;
    const delivery = new Delivery(messages.length);
    const refused: { error?: RdError } = {};
    const queued = produceAll(producer, topic, messages, delivery, refused);
    // Messages queued before a refusal still get their reports; wait for those, then fail.
    if (refused.error !== undefined) delivery.shrink(queued, refused.error);
    const backstop = setTimeout(() => delivery.expire(), this.#timeoutMs + 5000);
    backstop.unref();
    try {
      const err = await delivery.done;
      if (err !== undefined) throw await this.#failed(producer, topic, err);
    } finally {
      clearTimeout(backstop);
    }
  }

  /**
   * Drain mode: produce without a per-message report (no opaque either: the binding would hold
   * it until a report that never comes), then wait until the producer is drained. A failure
   * report that arrived meanwhile, for any send in flight, fails this send: at worst a batch is
   * sent again.
   */
  async #sendDrained(topic: string, messages: KafkaMessage[]): Promise<void> {
    const producer = this.#producer!;
    const drain = this.#drain!;
    const failuresBefore = this.#failedReports;
    const refused: { error?: RdError } = {};
    const queued = produceAll(producer, topic, messages, undefined, refused);
    let thrown = refused.error;
    if (queued > 0) {
      let backstop: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((resolve) => {
        backstop = setTimeout(() => resolve('expired'), this.#timeoutMs + 5000);
        backstop.unref();
      });
      const outcome = await Promise.race([drain.wait(), expired]);
      clearTimeout(backstop);
      if (outcome === 'expired') thrown ??= { message: 'messages still in flight after the deadline', code: -185 };
      else if (outcome !== undefined) thrown ??= outcome;
    }
    const err = thrown ?? (this.#failedReports !== failuresBefore ? this.#lastFailure : undefined);
    if (err !== undefined) throw await this.#failed(producer, topic, err);
  }

  /**
   * The error a failed send throws, after deciding whether the next send needs a new producer.
   * Messages that time out while the cluster names a leader for every partition of the topic mean
   * that this client's own view is stale: after a broker restarted, CI saw a librdkafka producer
   * time out every message for minutes while a client started during the outage connected at once
   * (upstream: confluentinc/librdkafka#4976). Asking the cluster once per timed-out send tells that apart from an outage (no answer,
   * or a partition without a leader), where a new client could do no better.
   */
  async #failed(producer: RdProducer, topic: string, err: RdError): Promise<KafkaClientError> {
    if (err.isFatal) this.#renewal = `fatal error: ${err.message}`;
    else if (err.code === MSG_TIMED_OUT && this.#renewal === undefined && (await everyPartitionLed(producer, topic)) && producer === this.#producer) {
      this.#renewal = 'messages timed out while the cluster names a leader for every partition';
    }
    return this.#error(err, `send to ${topic}`);
  }

  async disconnect(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const producer = this.#producer;
    this.#producer = undefined;
    this.#drain = undefined;
    if (producer) await closeQuietly(producer, 5000);
  }

  /** Drops the producer and starts another (see #renewal). */
  async #renew(): Promise<void> {
    const old = this.#producer;
    this.#producer = undefined;
    this.#drain = undefined;
    this.#logger.warn({ lib: 'librdkafka', reason: this.#renewal }, 'starting a new producer session');
    if (old) closeQuietly(old, 1000);
    this.#state = 'connecting';
    this.#connecting = undefined;
    try {
      await this.connect();
    } catch (e) {
      this.#state = 'new';
      throw e;
    }
  }

  readonly #rdLog = rdLogForwarder(() => this.#logger);

  #onClientError(err: RdError): void {
    if (err.isFatal) {
      this.#renewal = `fatal error: ${err.message}`;
      this.#logger.error({ lib: 'librdkafka', code: rdErrorName(this.#rd, err.code), err: err.message }, 'librdkafka fatal error');
      return;
    }
    // Broker connection errors repeat every few hundred ms while a broker is down, and the
    // failing sends report them anyway: one line every 30 s.
    const now = Date.now();
    if (now - this.#lastErrorLog < 30_000) return;
    this.#lastErrorLog = now;
    this.#logger.warn({ lib: 'librdkafka', code: rdErrorName(this.#rd, err.code), err: err.message }, 'librdkafka error (retried by the client)');
  }

  #error(err: RdError, context: string): KafkaClientError {
    const e = rdError(this.#rd, err, context, 'KAFKA_PRODUCER_RESET');
    // A send that timed out while the brokers refuse us: say why rather than "timed out".
    if ((e.code === 'KAFKA_TIMEOUT' || e.code === 'KAFKA_CONNECTION') && this.#auth?.last !== undefined) {
      return authenticationError(`${context}: ${this.#auth.last}`, err);
    }
    return e;
  }
}

/**
 * Hands the messages to librdkafka, which copies them; returns how many it took, fewer when it
 * refused one (queue full, unknown partition: `refused.error`). A function of its own because V8
 * optimizes the function around a hot loop as a whole: kept small, that takes it a few ms rather
 * than ~30 ms of a second core on the agent's first batches.
 */
function produceAll(producer: RdProducer, topic: string, messages: KafkaMessage[], opaque: unknown, refused: { error?: RdError }): number {
  let i = 0;
  try {
    for (; i < messages.length; i++) {
      const m = messages[i];
      producer.produce(topic, null, valueBytes(m.value), m.key, null, opaque, m.headers === undefined ? undefined : headerList(m.headers));
    }
  } catch (e) {
    refused.error = e as RdError;
  }
  return i;
}

/** Whether the cluster answers, within a few seconds, with a leader for every partition of `topic`. */
function everyPartitionLed(producer: RdProducer, topic: string): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      producer.getMetadata({ topic, timeout: LEADER_CHECK_TIMEOUT_MS }, (err, metadata) => {
        const partitions = err ? undefined : metadata?.topics.find((t) => t.name === topic)?.partitions;
        resolve(partitions !== undefined && partitions.length > 0 && partitions.every((p) => p.leader >= 0));
      });
    } catch {
      resolve(false); // the client is closed
    }
  });
}

const valueBytes = (value: KafkaMessage['value']): Buffer | null => (typeof value === 'string' ? Buffer.from(value) : value);

/** The binding's header form: one single-key object per header. */
const headerList = (headers: Record<string, string>): Array<Record<string, string>> => Object.entries(headers).map(([k, v]) => ({ [k]: v }));

/**
 * Flushes (up to `timeoutMs`) and closes; the binding throws if the client is no longer
 * connected, which at this point only means there is nothing left to close.
 */
function closeQuietly(producer: RdProducer, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      producer.disconnect(timeoutMs, () => resolve());
    } catch {
      resolve();
    }
  });
}

/** Counts the delivery reports of one send(); settles with the first error, once all are in. */
class Delivery {
  #left: number;
  #error: RdError | undefined;
  #settle!: (err: RdError | undefined) => void;
  readonly done = new Promise<RdError | undefined>((resolve) => (this.#settle = resolve));

  constructor(count: number) {
    this.#left = count;
  }

  report(err: RdError | null): void {
    if (err) this.#error ??= err;
    if (--this.#left === 0) this.#settle(this.#error);
  }

  /** Only `queued` messages made it into the client; the send fails with `err` once they report. */
  shrink(queued: number, err: RdError): void {
    this.#error ??= err;
    this.#left = queued;
    if (queued === 0) this.#settle(this.#error);
  }

  /** librdkafka never reported within its own timeout (should not happen): fail the send. */
  expire(): void {
    this.#left = -1;
    this.#settle(this.#error ?? { message: 'no delivery report within the deadline', code: -185 });
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Drain mode's wait: resolves (with undefined) once librdkafka has no message left in flight,
 * for every wait() that began before the check that found it so. librdkafka counts a failed
 * message until the binding's report callback for it has returned, and that callback queues the
 * report and wakes the event loop (uv_async_send). So when a check finds the producer drained,
 * every failure report is already signalled to the loop; it is delivered in the poll phase the
 * check's completion runs in, or in the next one. Two setImmediate turns wait past that next
 * poll phase before the wait resolves, so a send never succeeds ahead of its failure report.
 *
 * The check is a zero-timeout flush on libuv's pool, polled: every ~1 ms at first, backing off
 * to 50 ms while a batch takes long (a broker outage). A blocking flush would hold a pool thread
 * and only notice the end every 10 ms, since librdkafka signals nothing for messages that
 * succeed without a report.
 */
class Drain {
  /** Waits begun since the last check was issued. */
  #pending: Array<(err: RdError | undefined) => void> = [];
  #running = false;

  constructor(private readonly producer: RdProducer) {}

  wait(): Promise<RdError | undefined> {
    return new Promise((resolve) => {
      this.#pending.push(resolve);
      if (!this.#running) void this.#run();
    });
  }

  async #run(): Promise<void> {
    this.#running = true;
    let covered: Array<(err: RdError | undefined) => void> = [];
    let since = performance.now();
    while (this.#pending.length > 0 || covered.length > 0) {
      if (covered.length === 0) since = performance.now();
      covered = covered.concat(this.#pending.splice(0));
      const err = await this.#check();
      if (err === undefined || err.code !== -185) {
        // Drained, or the client is gone (closed or renewed): either way these waits are over.
        if (err === undefined) {
          await nextTurn();
          await nextTurn();
        }
        for (const resolve of covered) resolve(err);
        covered = [];
        continue;
      }
      const elapsed = performance.now() - since;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, elapsed / 8))));
    }
    this.#running = false;
  }

  /** undefined when drained; ERR__TIMED_OUT (-185) while messages are in flight; else the client's error. */
  #check(): Promise<RdError | undefined> {
    return new Promise((resolve) => {
      try {
        this.producer.flush(0, (err) => resolve(err ?? undefined));
      } catch (e) {
        resolve({ message: e instanceof Error ? e.message : String(e), code: -172 });
      }
    });
  }
}
