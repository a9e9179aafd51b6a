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

/** A Kafka message validate could not decode, on its way to the dead-letter topic. */
export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer;
  /** Why it was rejected (a model reject reason). */
  reason: string;
}

/** Spans on their way to storage, with the holds on the offsets they came from. */
export interface SpanBatch {
  spans: Span[];
  /** One entry per hold; the same receipt may appear more than once. */
  receipts: Receipt[];
  /** Undecodable messages of these offsets; the dead-letter stage sends them before passing on. */
  deadLetters?: DeadLetter[];
}

/** The spans of one trace seen so far, with the holds on the offsets they came from. */
export interface TraceGroup {
  traceId: string;
  spans: Span[];
  /** One hold per entry, released when the trace is written or dropped on purpose. */
  receipts: Receipt[];
  /** Why the group was closed: inactivity, a bound, or the end of the stream. */
  closedBy: 'inactive' | 'max_age' | 'max_spans_per_trace' | 'max_open_traces' | 'max_held_spans' | 'batch' | 'complete';
}

/** Trace groups closed together. */
export interface TraceBatch {
  traces: TraceGroup[];
  /** Holds on offsets that carried no span (nothing to write, committable once passed on). */
  receipts: Receipt[];
}

/** Offsets the commit stage handed to Kafka: `offset` is the next offset to read. */
export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: string;
}
