import type { KafkaMessage } from '@pintrace/kafka';
import { traceIdOfLine } from '@pintrace/model';
import { isJsonText } from './json-check.js';
import { traceKey } from './trace-key.js';

/** Why a line was not shipped. */
export type SkipReason = 'not_json_object' | 'invalid_json' | 'no_trace_id';

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
}

export interface BatcherOptions {
  /**
   * Parse every line to be sure it is JSON (default true). One bad line would otherwise make the
   * whole `[...]` message unreadable and the collector would drop the trace's other spans with it.
   */
  checkJson?: boolean;
  /** Keep the skipped lines themselves in `rejects` (default false: only counted). */
  collectRejects?: boolean;
  /**
   * The bytes the lines were decoded from (line i = `bytes[starts[i], ends[i])`): the message
   * values are then copied from them instead of encoding the strings again.
   */
  source?: { bytes: Buffer; starts: readonly number[]; ends: readonly number[] };
}

/**
 * Turns the lines of one read batch into Kafka messages: a Zipkin v2 JSON list per trace,
 * `[span,span,...]`, keyed by trace id. Lines that are not span objects are counted and left out.
 */
export function buildMessages(lines: readonly string[], options: BatcherOptions = {}): BatchMessages {
  const checkJson = options.checkJson ?? true;
  const source = options.source;
  /** Per trace key, the indexes of its lines. */
  const groups = new Map<string, number[]>();
  const skipped: Partial<Record<SkipReason, number>> = {};
  const samples: string[] = [];
  const rejects: Array<{ reason: SkipReason; line: string }> = [];
  const collect = options.collectRejects ?? false;
  let spans = 0;
  const skip = (reason: SkipReason, line: string) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
    if (collect) rejects.push({ reason, line });
    if (samples.length < 3) samples.push(line.length > 200 ? `${line.slice(0, 200)}…` : line);
  };
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index];
    const line = raw.trim();
    if (line === '') continue;
    if (line.charCodeAt(0) !== 0x7b /* { */ || line.charCodeAt(line.length - 1) !== 0x7d /* } */) {
      skip('not_json_object', line);
      continue;
    }
    const traceId = traceIdOfLine(line);
    if (traceId === undefined) {
      skip('no_trace_id', line);
      continue;
    }
    if (checkJson && !isJsonText(line)) {
      skip('invalid_json', line);
      continue;
    }
    const key = traceKey(traceId);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push(index);
    spans++;
  }
  return { messages: encodeGroups(lines, groups, source), spans, skipped, samples, rejects };
}

/**
 * All message values `[line,line,...]` written into one buffer (one allocation per batch, each
 * value a slice of it). A line is copied from the source bytes when it was not trimmed (it starts
 * with '{' and ends with '}', as every shipped line after trimming), else encoded from its string.
 */
function encodeGroups(lines: readonly string[], groups: Map<string, number[]>, source: BatcherOptions['source']): KafkaMessage[] {
  const copyable = (i: number) =>
    source !== undefined && lines[i].charCodeAt(0) === 0x7b && lines[i].charCodeAt(lines[i].length - 1) === 0x7d;
  let total = 0;
  for (const group of groups.values()) {
    total += group.length + 1; // brackets and commas
    for (const i of group) total += copyable(i) ? source!.ends[i] - source!.starts[i] : Buffer.byteLength(lines[i].trim());
  }
  const out = Buffer.allocUnsafe(total);
  const messages: KafkaMessage[] = [];
  let off = 0;
  for (const [key, group] of groups) {
    const begin = off;
    out[off++] = 0x5b; // [
    for (let k = 0; k < group.length; k++) {
      if (k > 0) out[off++] = 0x2c; // ,
      const i = group[k];
      if (copyable(i)) off += source!.bytes.copy(out, off, source!.starts[i], source!.ends[i]);
      else off += out.write(lines[i].trim(), off);
    }
    out[off++] = 0x5d; // ]
    messages.push({ key, value: out.subarray(begin, off) });
  }
  return messages;
}
