/**
 * What flows between the collector's stages.
 *
 * Offsets ride along with the data as receipts: every `SpanBatch` holds one reference on each
 * receipt it lists, and a receipt's offsets become committable only when its last reference is
 * released, after the sink made the spans durable or a stage dropped them on purpose.
 */
import type { Span } from '@pintrace/model';
import type { Receipt } from './receipt.js';

/** One Kafka message as the pipeline sees it. */
export interface RawMessage {
  /** Offset as a decimal string (Kafka offsets are 64-bit). */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** A batch of messages from one partition, as the source emits it. */
export interface SourceBatch {
  topic: string;
  partition: number;
  messages: RawMessage[];
  /** The hold on this batch's offsets; the batch's owner must pass it on or release it. */
  receipt: Receipt;
}

/** Spans on their way to storage, with the holds on the offsets they came from. */
export interface SpanBatch {
  spans: Span[];
  /** One entry per hold; the same receipt may appear more than once. */
  receipts: Receipt[];
}

/** Offsets the commit stage handed to Kafka: `offset` is the next offset to read. */
export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: string;
}
