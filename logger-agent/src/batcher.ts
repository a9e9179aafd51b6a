import type { KafkaMessage } from '@pintrace/kafka';
import { isJsonBytes, traceKeyOfBytes } from './json-bytes.js';

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
}

/** Lines as byte ranges of one buffer: line i is `bytes[starts[i], ends[i])`, without its newline. */
export interface LineBytes {
  bytes: Buffer;
  starts: ArrayLike<number>;
  ends: ArrayLike<number>;
  count: number;
}

const isWs = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/**
 * Per-line scratch space, reused from batch to batch (a batch has at most --batch-lines lines):
 * the trimmed range of each shipped line and the next line of its trace, so grouping allocates
 * nothing per line.
 */
class Scratch {
  start = new Int32Array(0);
  end = new Int32Array(0);
  next = new Int32Array(0);
  ensure(n: number): void {
    if (this.start.length >= n) return;
    const size = Math.max(n, this.start.length * 2, 1024);
    this.start = new Int32Array(size);
    this.end = new Int32Array(size);
    this.next = new Int32Array(size);
  }
}
const scratch = new Scratch();

/**
 * Turns the lines of one read batch into Kafka messages: a Zipkin v2 JSON list per trace,
 * `[span,span,...]`, keyed by trace id. Lines that are not span objects are counted and left out.
 *
 * Everything is done on the read bytes: the trace id is found and the JSON checked in place, and
 * each message value is the shipped lines copied from the read buffer into one buffer per batch
 * (one allocation; no per-line strings, no re-encoding). Only rejected lines are decoded, for the
 * log and the dead-letter topic.
 */
export function buildMessagesFromBytes(input: LineBytes, options: BatcherOptions = {}): BatchMessages {
  const checkJson = options.checkJson ?? true;
  const collect = options.collectRejects ?? false;
  const maxLineBytes = options.maxLineBytes ?? Infinity;
  let oversizedBytes = 0;
  const { bytes, starts, ends, count } = input;
  scratch.ensure(count);
  const { start: lineStart, end: lineEnd, next } = scratch;
  /** Trace key → its group number; per group, first and last line (a linked list through `next`). */
  const groupOf = new Map<string, number>();
  const keys: string[] = [];
  const heads: number[] = [];
  const tails: number[] = [];
  const skipped: Partial<Record<SkipReason, number>> = {};
  const samples: string[] = [];
  const rejects: Array<{ reason: SkipReason; line: string }> = [];
  let spans = 0;
  let valueBytes = 0;
  const skip = (reason: SkipReason, s: number, e: number) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
    if (!collect && samples.length >= 3) return;
    const line = bytes.toString('utf8', s, e);
    if (collect) rejects.push({ reason, line });
    if (samples.length < 3) samples.push(line.length > 200 ? `${line.slice(0, 200)}…` : line);
  };
  for (let index = 0; index < count; index++) {
    let s = starts[index];
    let e = ends[index];
    while (s < e && isWs(bytes[s])) s++;
    while (e > s && isWs(bytes[e - 1])) e--;
    if (s === e) continue;
    if (e - s > maxLineBytes) {
      oversizedBytes += e - s;
      skip('oversized_line', s, Math.min(e, s + OVERSIZED_HEAD_BYTES));
      continue;
    }
    if (bytes[s] !== 0x7b /* { */ || bytes[e - 1] !== 0x7d /* } */) {
      skip('not_json_object', s, e);
      continue;
    }
    const key = traceKeyOfBytes(bytes, s, e);
    if (key === undefined) {
      skip('no_trace_id', s, e);
      continue;
    }
    if (checkJson && !isJsonBytes(bytes, s, e)) {
      skip('invalid_json', s, e);
      continue;
    }
    lineStart[index] = s;
    lineEnd[index] = e;
    next[index] = -1;
    valueBytes += e - s;
    let group = groupOf.get(key);
    if (group === undefined) {
      group = keys.length;
      groupOf.set(key, group);
      keys.push(key);
      heads.push(index);
      tails.push(index);
    } else {
      next[tails[group]] = index;
      tails[group] = index;
    }
    spans++;
  }
  // Per trace: '[' + lines joined by ',' + ']', i.e. one extra byte per line plus one per trace.
  const out = Buffer.allocUnsafe(valueBytes + spans + keys.length);
  const messages: KafkaMessage[] = new Array(keys.length);
  let off = 0;
  for (let g = 0; g < keys.length; g++) {
    const begin = off;
    let sep = 0x5b; // '[' before the first line, ',' before the others
    for (let i = heads[g]; i >= 0; i = next[i]) {
      out[off++] = sep;
      sep = 0x2c;
      off += bytes.copy(out, off, lineStart[i], lineEnd[i]);
    }
    out[off++] = 0x5d; // ]
    messages[g] = { key: keys[g], value: out.subarray(begin, off) };
  }
  return { messages, spans, skipped, samples, rejects, oversizedBytes };
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
