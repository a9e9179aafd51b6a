/**
 * The project's Kafka interface. Everything above this module (agent, collector, CLI) talks to
 * these types only, so the client library behind them can be swapped (docs/decisions.md).
 */

import type { KafkaClientChoice, KafkaSecurity, Logger } from '@pintrace/runtime';

/** The client library behind the interface (docs/decisions.md, D6, explains the default). */
export type KafkaClientName = KafkaClientChoice;

export interface KafkaMessage {
  /** Partitioning key; Pintrace keys span messages by trace id. */
  key: string | Buffer | null;
  /** The payload; null is a tombstone (removes the key from a compacted topic). */
  value: Buffer | string | null;
  headers?: Record<string, string>;
}

export interface ProducerOptions {
  brokers: string[];
  /** TLS and SASL settings; default PLAINTEXT. A client that cannot honour them refuses to start. */
  security?: KafkaSecurity;
  clientId?: string;
  /** Client library; default the project's choice (librdkafka, kafkajs where its build is missing). */
  client?: KafkaClientName;
  /** Where the client library's own log lines go; default a "kafka" component logger. */
  logger?: Logger;
  /** Compression codec for batches; default none. */
  compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /** Upper bound to wait for acks of one send before it fails (KAFKA_TIMEOUT, retryable); default 30 s. */
  requestTimeoutMs?: number;
  /**
   * Create a missing topic on first send (broker defaults for partitions) instead of failing
   * with KAFKA_UNKNOWN_TOPIC; default true, as Kafka's own auto.create.topics.enable.
   */
  autoCreateTopics?: boolean;
  /**
   * Topics this producer will write to, when known up front: librdkafka fetches their metadata in
   * connect() (instead of every topic's), so the first send does not wait for a metadata round.
   */
  topics?: string[];
  /**
   * How send() learns that its messages were acknowledged (librdkafka; the other clients are
   * acknowledged per request anyway). 'each' (default): a delivery report per message, so sends
   * complete independently. 'drain': librdkafka reports failed messages only, and send() resolves
   * once the producer has no message left in flight. That saves the per-message report (an object
   * built on the JS thread for each; docs/decisions.md D4), but a send also waits for the others
   * in flight: fit for writers that wait on each batch before producing the next (the logger
   * agent), not for many independent concurrent senders.
   */
  deliveryReports?: 'each' | 'drain';
}

/**
 * An idempotent producer with acks=all: send() resolves only when every message is acknowledged.
 * Once send() has settled the producer holds no reference to the messages' buffers: the caller
 * may reuse them (the agent builds each batch into reused memory).
 */
export interface SpanProducer {
  connect(): Promise<void>;
  send(topic: string, messages: KafkaMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  /** Offset as a decimal string (Kafka offsets are 64-bit). */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Message timestamp, epoch milliseconds as a decimal string. */
  timestamp: string;
  headers?: Record<string, string>;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
  /** High watermark of the partition when fetched (for lag). */
  highWatermark: string;
}

export interface ConsumerOptions {
  brokers: string[];
  /** TLS and SASL settings; default PLAINTEXT. A client that cannot honour them refuses to start. */
  security?: KafkaSecurity;
  groupId: string;
  topics: string[];
  clientId?: string;
  /** Client library; default the project's choice (librdkafka, kafkajs where its build is missing). */
  client?: KafkaClientName;
  /** Where the client library's own log lines go; default a "kafka" component logger. */
  logger?: Logger;
  /** Where a group with no committed offset starts; default earliest, as zipkin's collector. */
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  /** Heartbeat interval; default 3 s (must be well below sessionTimeoutMs). */
  heartbeatIntervalMs?: number;
  /** Upper bound of bytes fetched per partition per request; default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Longest the broker waits to fill a fetch; default 500 ms. */
  maxWaitTimeMs?: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/**
 * A consumer-group member with manual commits: the handler processes a batch and the caller
 * commits offsets only after the data is durable.
 */
export interface SpanConsumer {
  connect(): Promise<void>;
  /** Starts consuming; each batch is handed over in partition order, one batch per partition at a time. */
  run(handler: (batch: ConsumedBatch) => Promise<void>): Promise<void>;
  /** Commits `offset` as the next offset to read for each partition. */
  commit(offsets: Array<TopicPartition & { offset: string }>): Promise<void>;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /** Partitions currently assigned to this member. */
  assignment(): TopicPartition[];
  /** Called after every rebalance with the new assignment. */
  onRebalance(listener: (assigned: TopicPartition[]) => void): void;
  /**
   * Called when the consumer stops on an error it could not recover from (the handler kept
   * failing, the group was lost); the member has left the group. Without a listener it is logged.
   */
  onError(listener: (error: Error) => void): void;
  disconnect(): Promise<void>;
}

export interface TopicAdmin {
  ensureTopic(topic: string, partitions: number, config?: Record<string, string>): Promise<void>;
  /** End offsets (next offset to be written) per partition. */
  endOffsets(topic: string): Promise<Array<{ partition: number; offset: string }>>;
  /** Committed offsets of a group per partition; "-1" where the group has committed nothing. */
  groupOffsets(groupId: string, topic: string): Promise<Array<{ partition: number; offset: string }>>;
  close(): Promise<void>;
}
