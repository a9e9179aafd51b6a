/**
 * The interface implemented with kafkajs 2.2.4 (pure JS, in maintenance since 2023).
 *
 * Producer: idempotent (the broker de-duplicates retried batches by producer id + sequence),
 * acks=all, one request in flight per broker (kafkajs's sequence bookkeeping is only safe so).
 * Consumer: a group member with autoCommit off; batches go to the handler one partition at a
 * time, a heartbeat timer runs while the handler works so a slow durable write does not cost
 * the group membership.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import './kafkajs-crc32c.js'; // before kafkajs: native CRC-32C when available
import kafkajs from 'kafkajs';
import './kafkajs-encoder.js'; // encoder growth without zero-filling
import './kafkajs-request-queue.js'; // no timer spinning on an idle connection
import snappyCodec from 'kafkajs-snappy';
import type { Admin, Consumer, EachBatchPayload, Kafka as KafkaInstance, KafkaConfig, KafkaMessage as KjsMessage, Producer, SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaSecurity, Logger } from '@pintrace/runtime';
import type { AdminOptions } from './factory.js';
import { ConsumerListeners } from './consumer-listeners.js';
import type {
  ConsumedBatch,
  ConsumedMessage,
  ConsumerOptions,
  KafkaMessage,
  ProducerOptions,
  SpanConsumer,
  SpanProducer,
  TopicAdmin,
  TopicPartition,
} from './types.js';
import { configError, KafkaClientError, notConnected, toKafkaError } from './errors.js';
import { kafkajsLogCreator, kafkaLogger } from './log.js';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_BYTES_PER_PARTITION,
  DEFAULT_MAX_WAIT_TIME_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  checkSecurity,
  validateBrokers,
  validateConsumerOptions,
  validateProducerOptions,
  withDeadline,
} from './options.js';

const { Kafka, Partitioners, CompressionTypes, CompressionCodecs, logLevel } = kafkajs;

// Snappy through kafkajs-snappy (pure JS, raw snappy out; reads raw and xerial-framed batches),
// so a fast codec works with no native build. lz4 needs the librdkafka client; zstd neither.
// Compression uses the native `snappy` package (optional dependency, prebuilt binaries) when it
// loads: the same raw snappy blocks for less CPU than snappyjs, most for a cold process.
CompressionCodecs[CompressionTypes.Snappy] = snappyCodecWithNativeCompress;

function snappyCodecWithNativeCompress() {
  const js = snappyCodec();
  let native: ((input: Buffer) => Buffer) | undefined;
  try {
    native = (createRequire(import.meta.url)('snappy') as { compressSync(input: Buffer): Buffer }).compressSync;
  } catch {
    native = undefined; // no binary for this platform: the pure-JS codec does it
  }
  return {
    compress: async (encoder: { buffer: Buffer }) => (native ? native(encoder.buffer) : js.compress(encoder)),
    decompress: (buffer: Buffer) => js.decompress(buffer),
  };
}

/**
 * kafkajs's `ssl` and `sasl` options for `security`, after the checks both clients share
 * (`checkSecurity`), or KAFKA_CONFIG for what kafkajs cannot do honestly. TLS goes through
 * node:tls, which verifies the chain against the CA file (else Node's CA store) and the host name
 * unless `verifyHostname` is false. OAUTHBEARER is refused: kafkajs only takes a token from a
 * callback, and fetching and refreshing OAuth tokens is not something this fallback does; use the
 * librdkafka client.
 */
export function kafkajsSecurityConfig(security: KafkaSecurity | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const checked = checkSecurity(security);
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (checked?.tls !== undefined) {
    const tls = checked.tls;
    const ssl: ConnectionOptions = { rejectUnauthorized: true };
    if (tls.caFile !== undefined) ssl.ca = [readPem(tls.caFile, 'kafka-ca-file')];
    if (tls.certFile !== undefined) ssl.cert = readPem(tls.certFile, 'kafka-cert-file');
    if (tls.keyFile !== undefined) ssl.key = readPem(tls.keyFile, 'kafka-key-file');
    // The chain is still verified; only the name check is skipped, as librdkafka's algorithm "none".
    if (tls.verifyHostname === false) ssl.checkServerIdentity = () => undefined;
    out.ssl = ssl;
  }
  if (checked?.sasl !== undefined) {
    const sasl = checked.sasl;
    const mechanisms = { PLAIN: 'plain', 'SCRAM-SHA-256': 'scram-sha-256', 'SCRAM-SHA-512': 'scram-sha-512' } as const;
    if (sasl.mechanism === 'OAUTHBEARER') {
      throw configError(
        '--kafka-sasl-mechanism OAUTHBEARER is not supported by the kafkajs client (it cannot fetch OAuth tokens itself): set --kafka-client librdkafka, or use SCRAM-SHA-512 / SCRAM-SHA-256 / PLAIN',
      );
    }
    const mechanism = mechanisms[sasl.mechanism];
    if (mechanism === undefined) throw configError(`--kafka-sasl-mechanism "${String(sasl.mechanism)}" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`);
    out.sasl = { mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
  }
  return out;
}

/** A PEM file's contents; a problem names the flag and the path, never the content. */
function readPem(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw configError(`--${flag}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function newKafka(brokers: string[], clientId: string, logger: Logger, security: KafkaSecurity | undefined, requestTimeout?: number): KafkaInstance {
  return new Kafka({
    brokers,
    clientId,
    ...kafkajsSecurityConfig(security),
    logLevel: logLevel.INFO,
    logCreator: kafkajsLogCreator(logger),
    ...(requestTimeout === undefined ? {} : { requestTimeout }),
  });
}

function compressionType(c: ProducerOptions['compression']): number {
  switch (c ?? 'none') {
    case 'none':
      return CompressionTypes.None;
    case 'gzip':
      return CompressionTypes.GZIP;
    case 'snappy':
      return CompressionTypes.Snappy;
    default:
      // kafkajs needs a separate codec package for these; we ship only snappy's.
      throw configError(`compression "${c}" is not available with the kafkajs client: use "snappy", "gzip" or "none", or the librdkafka client`);
  }
}

export class KafkajsSpanProducer implements SpanProducer {
  readonly #producer: Producer;
  readonly #timeoutMs: number;
  readonly #compression: number;
  #state: 'new' | 'connecting' | 'connected' | 'closed' = 'new';
  #connecting: Promise<void> | undefined;

  constructor(options: ProducerOptions) {
    validateProducerOptions(options);
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#compression = compressionType(options.compression);
    const kafka = newKafka(options.brokers, options.clientId ?? 'pintrace-producer', kafkaLogger(options.logger), options.security);
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: options.autoCreateTopics ?? true,
      createPartitioner: Partitioners.DefaultPartitioner, // murmur2, the same partition as Java clients
    });
  }

  async connect(): Promise<void> {
    if (this.#state === 'connected') return;
    if (this.#state === 'closed') throw notConnected('producer was disconnected');
    this.#connecting ??= this.#producer.connect().then(
      () => {
        this.#state = 'connected';
      },
      (e: unknown) => {
        this.#connecting = undefined;
        throw toKafkaError(e, 'producer connect');
      },
    );
    this.#state = 'connecting';
    return this.#connecting;
  }

  async send(topic: string, messages: KafkaMessage[]): Promise<void> {
    if (this.#state !== 'connected') throw notConnected('send');
    if (messages.length === 0) return;
    const sending = this.#producer.send({
      topic,
      acks: -1,
      timeout: this.#timeoutMs,
      compression: this.#compression,
      messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
    });
    try {
      await withDeadline(
        sending,
        this.#timeoutMs,
        () => new KafkaClientError('KAFKA_TIMEOUT', `send to ${topic}: no acks within ${this.#timeoutMs} ms`, { retryable: true }),
      );
    } catch (e) {
      sending.catch(() => undefined); // a send we gave up on must not become an unhandled rejection
      throw toKafkaError(e, `send to ${topic}`);
    }
  }

  async disconnect(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await this.#producer.disconnect().catch(() => undefined);
  }
}

function toMessage(topic: string, partition: number, m: KjsMessage): ConsumedMessage {
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

export class KafkajsSpanConsumer implements SpanConsumer {
  readonly #options: ConsumerOptions;
  readonly #consumer: Consumer;
  readonly #logger: Logger;
  readonly #heartbeatMs: number;
  #assigned: TopicPartition[] = [];
  readonly #listeners: ConsumerListeners;
  #state: 'new' | 'connected' | 'running' | 'closed' = 'new';

  constructor(options: ConsumerOptions) {
    validateConsumerOptions(options);
    this.#options = options;
    this.#logger = kafkaLogger(options.logger);
    this.#listeners = new ConsumerListeners(this.#logger);
    this.#heartbeatMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    const sessionTimeout = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    const kafka = newKafka(options.brokers, options.clientId ?? 'pintrace-consumer', this.#logger, options.security);
    this.#consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout,
      rebalanceTimeout: Math.max(60_000, sessionTimeout),
      heartbeatInterval: this.#heartbeatMs,
      maxBytesPerPartition: options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? DEFAULT_MAX_WAIT_TIME_MS,
      allowAutoTopicCreation: false,
    });
    const ev = this.#consumer.events;
    this.#consumer.on(ev.GROUP_JOIN, (e) => {
      const assigned: TopicPartition[] = [];
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
        for (const partition of [...partitions].sort((a, b) => a - b)) assigned.push({ topic, partition });
      }
      this.#setAssignment(assigned);
    });
    this.#consumer.on(ev.CRASH, (e) => {
      this.#setAssignment([]);
      if (e.payload.restart) return; // kafkajs re-joins by itself after a backoff
      this.#listeners.failed(toKafkaError(e.payload.error, `consumer ${options.groupId} stopped`));
    });
    this.#consumer.on(ev.STOP, () => this.#setAssignment([]));
  }

  async connect(): Promise<void> {
    if (this.#state !== 'new') {
      if (this.#state === 'closed') throw notConnected('consumer was disconnected');
      return;
    }
    try {
      await this.#consumer.connect();
      await this.#consumer.subscribe({ topics: this.#options.topics, fromBeginning: this.#options.fromBeginning ?? true });
      this.#state = 'connected';
    } catch (e) {
      throw toKafkaError(e, `consumer ${this.#options.groupId} connect`);
    }
  }

  async run(handler: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    if (this.#state === 'running') throw configError('run() was already called on this consumer');
    if (this.#state !== 'connected') throw notConnected('run');
    this.#state = 'running';
    try {
      await this.#consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.#eachBatch(payload, handler),
      });
    } catch (e) {
      throw toKafkaError(e, `consumer ${this.#options.groupId} run`);
    }
  }

  async #eachBatch(payload: EachBatchPayload, handler: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty() || payload.isStale()) return;
    const out: ConsumedBatch = {
      topic: batch.topic,
      partition: batch.partition,
      highWatermark: batch.highWatermark,
      messages: batch.messages.map((m) => toMessage(batch.topic, batch.partition, m)),
    };
    // Keep the membership alive while the handler waits for a durable write.
    const beat = setInterval(() => {
      payload.heartbeat().catch(() => undefined);
    }, this.#heartbeatMs);
    beat.unref();
    try {
      await handler(out);
    } finally {
      clearInterval(beat);
    }
  }

  async commit(offsets: Array<TopicPartition & { offset: string }>): Promise<void> {
    if (this.#state !== 'running' && this.#state !== 'connected') throw notConnected('commit');
    if (offsets.length === 0) return;
    try {
      await this.#consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })));
    } catch (e) {
      throw toKafkaError(e, `commit of group ${this.#options.groupId}`);
    }
  }

  pause(partitions: TopicPartition[]): void {
    for (const [topic, ps] of byTopic(partitions)) this.#consumer.pause([{ topic, partitions: ps }]);
  }

  resume(partitions: TopicPartition[]): void {
    for (const [topic, ps] of byTopic(partitions)) this.#consumer.resume([{ topic, partitions: ps }]);
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
    this.#state = 'closed';
    await this.#consumer.disconnect().catch(() => undefined);
    this.#setAssignment([]);
  }

  #setAssignment(assigned: TopicPartition[]): void {
    const same =
      assigned.length === this.#assigned.length &&
      assigned.every((tp, i) => tp.topic === this.#assigned[i]?.topic && tp.partition === this.#assigned[i]?.partition);
    this.#assigned = assigned;
    if (same && assigned.length === 0) return;
    this.#listeners.rebalanced(this.#assigned);
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

export class KafkajsTopicAdmin implements TopicAdmin {
  readonly #admin: Admin;
  #connected: Promise<void> | undefined;

  constructor(brokers: string[], options: AdminOptions = {}) {
    validateBrokers(brokers);
    this.#admin = newKafka(brokers, options.clientId ?? 'pintrace-admin', kafkaLogger(options.logger), options.security).admin();
  }

  #connect(): Promise<void> {
    this.#connected ??= this.#admin.connect().catch((e: unknown) => {
      this.#connected = undefined;
      throw toKafkaError(e, 'admin connect');
    });
    return this.#connected;
  }

  async ensureTopic(topic: string, partitions: number, config: Record<string, string> = {}): Promise<void> {
    await this.#connect();
    try {
      const existing = await this.#admin.listTopics();
      if (existing.includes(topic)) return;
      await this.#admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: partitions,
            replicationFactor: -1,
            configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
          },
        ],
      });
    } catch (e) {
      const err = toKafkaError(e, `ensureTopic ${topic}`);
      if (/TOPIC_ALREADY_EXISTS|already exists/i.test(String((e as Error).message))) return;
      throw err;
    }
  }

  async endOffsets(topic: string): Promise<Array<{ partition: number; offset: string }>> {
    await this.#connect();
    try {
      const rows = await this.#admin.fetchTopicOffsets(topic);
      return rows.map((r) => ({ partition: r.partition, offset: r.high })).sort((a, b) => a.partition - b.partition);
    } catch (e) {
      throw toKafkaError(e, `endOffsets ${topic}`);
    }
  }

  async groupOffsets(groupId: string, topic: string): Promise<Array<{ partition: number; offset: string }>> {
    await this.#connect();
    try {
      const rows = await this.#admin.fetchOffsets({ groupId, topics: [topic] });
      const t = rows.find((r) => r.topic === topic);
      return (t?.partitions ?? []).map((p) => ({ partition: p.partition, offset: p.offset })).sort((a, b) => a.partition - b.partition);
    } catch (e) {
      throw toKafkaError(e, `groupOffsets ${groupId} ${topic}`);
    }
  }

  async close(): Promise<void> {
    const c = this.#connected;
    this.#connected = undefined;
    if (c) await c.then(() => this.#admin.disconnect()).catch(() => undefined);
  }
}
