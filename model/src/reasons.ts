/**
 * Why a span was rejected. Codes are stable (metrics labels, dead-letter headers); messages are
 * for humans and follow zipkin-server's wording where zipkin has one.
 */
import type { Span } from './span.js';

export type RejectReason =
  | 'malformed_json'
  | 'not_an_object'
  | 'missing_trace_id'
  | 'invalid_trace_id'
  | 'missing_id'
  | 'invalid_id'
  | 'invalid_parent_id'
  | 'invalid_kind'
  | 'invalid_name'
  | 'invalid_timestamp'
  | 'invalid_duration'
  | 'invalid_endpoint'
  | 'invalid_port'
  | 'bad_annotation'
  | 'invalid_tags'
  | 'non_string_tag'
  | 'invalid_flag';

/** Every reason code, for pre-registering metric labels. */
export const REJECT_REASONS: readonly RejectReason[] = [
  'malformed_json',
  'not_an_object',
  'missing_trace_id',
  'invalid_trace_id',
  'missing_id',
  'invalid_id',
  'invalid_parent_id',
  'invalid_kind',
  'invalid_name',
  'invalid_timestamp',
  'invalid_duration',
  'invalid_endpoint',
  'invalid_port',
  'bad_annotation',
  'invalid_tags',
  'non_string_tag',
  'invalid_flag',
];

/** A span that could not be accepted, and why. */
export interface SpanRejection {
  /** Stable machine-readable code. */
  reason: RejectReason;
  /** Human-readable detail, e.g. "48485A3953BB6124 should be lower-hex encoded with no prefix". */
  message: string;
  /** Position of the span in its list message, when it came from one. */
  index?: number;
  /** The trace id as written, when it could be read (for logs and dead-letter keys). */
  traceId?: string;
}

/** Outcome of checking one span: the normalised span, or why it was rejected. */
export type SpanResult = { ok: true; span: Span } | ({ ok: false } & SpanRejection);

/** Longest raw value echoed back in a message, so a huge bad value cannot bloat logs. */
const MAX_ECHO = 64;

/** Shortens a value for inclusion in a message. */
export function echo(value: string): string {
  return value.length <= MAX_ECHO ? value : `${value.slice(0, MAX_ECHO)}...(${value.length} chars)`;
}
