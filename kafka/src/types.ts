/**
 * The project's Kafka interface. Everything above this module (agent, collector, CLI) talks to
 * these types only, so the client library behind them can be swapped (docs/decisions.md).
 */

export interface KafkaMessage {
  /** Partitioning key; Pintrace keys span messages by trace id. */
  key: string | Buffer | null;
  value: Buffer | string;
  headers?: Record<string, string>;
}

export interface ProducerOptions {
  brokers: string[];
  clientId?: string;
  /** Compression codec for batches; default none. */
  compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /** Upper bound to wait for acks of one send before it fails. */
  requestTimeoutMs?: number;
}

/** An idempotent producer with acks=all: send() resolves only when every message is acknowledged. */
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
  timestamp: string;
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
  groupId: string;
  topics: string[];
  clientId?: string;
  /** Where a group with no committed offset starts; default earliest, as zipkin's collector. */
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
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
  disconnect(): Promise<void>;
}

export interface TopicAdmin {
  ensureTopic(topic: string, partitions: number, config?: Record<string, string>): Promise<void>;
  /** End offsets (next offset to be written) per partition. */
  endOffsets(topic: string): Promise<Array<{ partition: number; offset: string }>>;
  /** Committed offsets of a group per partition. */
  groupOffsets(groupId: string, topic: string): Promise<Array<{ partition: number; offset: string }>>;
  close(): Promise<void>;
}
