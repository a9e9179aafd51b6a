import type { KafkaMessage } from '@pintrace/kafka';
import { buildChunk, type MessageArena, LINE_INVALID_JSON, LINE_NO_TRACE_ID, LINE_NOT_OBJECT, LINE_OVERSIZED } from './line-check.js';

/** Why a line was not shipped. */
export type SkipReason = 'not_json_object' | 'invalid_json' | 'no_trace_id' | 'oversized_line';

export interface BatchMessages {
  /** One message per trace key, in order of first appearance; spans keep file order within it. */
  messages: KafkaMessage[];
  /** Lines that went into messages. */
  spans: number;
  /** Lines left out, by reason (empty lines are neither shipped nor counted). */
  skipped: Partial<Record<SkipReason, number>>;
  /** A few skipped lines (truncated) for the log. */
  samples: string[];
  /** Every skipped line with its reason, when `collectRejects` is on (for the dead-letter topic). */
  rejects: Array<{ reason: SkipReason; line: string }>;
  /** Bytes of the lines rejected as oversized. */
  oversizedBytes: number;
}

/** How much of an oversized line is kept for the log and the dead-letter topic. */
const OVERSIZED_HEAD_BYTES = 1024;

export interface BatcherOptions {
  /**
   * Check every line is JSON (default true). One bad line would otherwise make the whole `[...]`
   * message unreadable and the collector would drop the trace's other spans with it.
   */
  checkJson?: boolean;
  /** Keep the skipped lines themselves in `rejects` (default false: only counted). */
  collectRejects?: boolean;
  /**
   * Longer lines are not shipped (reason `oversized_line`; their first KiB goes to `rejects`), so
   * no message is larger than the broker takes. Default: no limit.
   */
  maxLineBytes?: number;
  /** Where the message values are copied to (default: a new buffer per call). */
  arena?: MessageArena;
}

/** Lines as byte ranges of one buffer: line i is `bytes[starts[i], ends[i])`, without its newline. */
export interface LineBytes {
  bytes: Buffer;
  starts: ArrayLike<number>;
  ends: ArrayLike<number>;
  count: number;
}

const isWs = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
const REASONS: Record<number, SkipReason> = {
  [LINE_OVERSIZED]: 'oversized_line',
  [LINE_NOT_OBJECT]: 'not_json_object',
  [LINE_NO_TRACE_ID]: 'no_trace_id',
  [LINE_INVALID_JSON]: 'invalid_json',
};

/**
 * Turns the lines of one read batch into Kafka messages: a Zipkin v2 JSON list per trace,
 * `[span,span,...]`, keyed by trace id. Lines that are not span objects are counted and left out.
 *
 * Everything is done on the read bytes, in WebAssembly (line-check.ts): the JSON check, the
 * trace id, the grouping and the message values, copied into `options.arena` or one new buffer.
 * Only rejected lines are decoded, for the log and the dead-letter topic.
 */
export function buildMessagesFromBytes(input: LineBytes, options: BatcherOptions = {}): BatchMessages {
  const collect = options.collectRejects ?? false;
  const { bytes, starts, ends, count } = input;
  const chunk = buildChunk(bytes, starts, ends, count, options.maxLineBytes ?? Infinity, options.checkJson ?? true, options.arena);
  const skipped: Partial<Record<SkipReason, number>> = {};
  const samples: string[] = [];
  const rejects: Array<{ reason: SkipReason; line: string }> = [];
  let oversizedBytes = 0;
  for (let index = 0; chunk.rejected > 0 && index < count; index++) {
    const reason = REASONS[chunk.status[index]];
    if (reason === undefined) continue;
    let s = starts[index];
    let e = ends[index];
    while (s < e && isWs(bytes[s])) s++;
    while (e > s && isWs(bytes[e - 1])) e--;
    skipped[reason] = (skipped[reason] ?? 0) + 1;
    if (reason === 'oversized_line') {
      oversizedBytes += e - s;
      e = Math.min(e, s + OVERSIZED_HEAD_BYTES);
    }
    if (!collect && samples.length >= 3) continue;
    const line = bytes.toString('utf8', s, e);
    if (collect) rejects.push({ reason, line });
    if (samples.length < 3) samples.push(line.length > 200 ? `${line.slice(0, 200)}…` : line);
  }
  return { messages: chunk.messages, spans: chunk.spans, skipped, samples, rejects, oversizedBytes };
}

/** The same from strings (tests, tools): the lines are encoded once into one buffer first. */
export function buildMessages(lines: readonly string[], options: BatcherOptions = {}): BatchMessages {
  const parts = lines.map((l) => Buffer.from(l));
  const starts = new Int32Array(lines.length);
  const ends = new Int32Array(lines.length);
  let off = 0;
  parts.forEach((p, i) => {
    starts[i] = off;
    off += p.length;
    ends[i] = off;
    off += 1; // a newline between lines, as in the file
  });
  const bytes = Buffer.concat(parts.flatMap((p) => [p, NEWLINE]));
  return buildMessagesFromBytes({ bytes, starts, ends, count: lines.length }, options);
}
const NEWLINE = Buffer.from('\n');
