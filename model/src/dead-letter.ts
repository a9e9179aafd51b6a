/**
 * The headers of a dead letter: a message that a Pintrace part could not pass on as spans and
 * wrote, unchanged, to a dead-letter topic instead. Both writers (logger-agent for span-file lines,
 * collector for Kafka messages) build them here, so one consumer of either topic reads both.
 *
 * The message key and value are the rejected input as it was (value cut to the writer's limit);
 * every header value is a UTF-8 string:
 *
 *   reason        always  why it was rejected: a model reject reason (`undecodable`, ...) or
 *                         the agent's `not_json_object`, `invalid_json`, `no_trace_id`, `oversized_line`
 *   rejected_by   always  which part rejected it: `logger-agent` or `collector`
 *   host          always  host name of the process that rejected it
 *   bytes         always  byte length of the whole rejected input (the value may be cut shorter)
 *   stream        agent   the span-file stream (service file name) the line was read from
 *   file          agent   the file of that stream holding the line
 *   batch_offset  agent   byte offset in that file of the batch that held the line
 *   topic         collector  the topic the message was consumed from
 *   partition     collector  its partition (decimal)
 *   offset        collector  its offset (decimal)
 *
 * Names are plain snake_case without a prefix: a dead-letter topic carries nothing else.
 */

export type DeadLetterOrigin =
  /** A line of a span file, rejected by the logger agent. */
  | { rejectedBy: 'logger-agent'; stream: string; file: string; batchOffset: number }
  /** A Kafka message, rejected by the collector. */
  | { rejectedBy: 'collector'; topic: string; partition: number; offset: string };

export type DeadLetterInfo = DeadLetterOrigin & {
  reason: string;
  host: string;
  /** Byte length of the whole rejected input. */
  bytes: number;
};

/** The header names, one place to spell them. */
export const DEAD_LETTER_HEADERS = {
  reason: 'reason',
  rejectedBy: 'rejected_by',
  host: 'host',
  bytes: 'bytes',
  stream: 'stream',
  file: 'file',
  batchOffset: 'batch_offset',
  topic: 'topic',
  partition: 'partition',
  offset: 'offset',
} as const;

const H = DEAD_LETTER_HEADERS;

/** The headers of one dead letter. */
export function deadLetterHeaders(info: DeadLetterInfo): Record<string, string> {
  const common = { [H.reason]: info.reason, [H.rejectedBy]: info.rejectedBy, [H.host]: info.host, [H.bytes]: String(info.bytes) };
  return info.rejectedBy === 'logger-agent'
    ? { ...common, [H.stream]: info.stream, [H.file]: info.file, [H.batchOffset]: String(info.batchOffset) }
    : { ...common, [H.topic]: info.topic, [H.partition]: String(info.partition), [H.offset]: info.offset };
}

const decimal = (v: string | undefined): number | undefined => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);

/**
 * Reads the headers of a dead letter; undefined when they do not follow this schema (a header
 * missing, a number that is not one, an unknown `rejected_by`).
 */
export function readDeadLetterHeaders(headers: Readonly<Record<string, string | undefined>>): DeadLetterInfo | undefined {
  const reason = headers[H.reason];
  const host = headers[H.host];
  const bytes = decimal(headers[H.bytes]);
  if (reason === undefined || host === undefined || bytes === undefined) return undefined;
  const rejectedBy = headers[H.rejectedBy];
  if (rejectedBy === 'logger-agent') {
    const stream = headers[H.stream];
    const file = headers[H.file];
    const batchOffset = decimal(headers[H.batchOffset]);
    if (stream === undefined || file === undefined || batchOffset === undefined) return undefined;
    return { reason, host, bytes, rejectedBy, stream, file, batchOffset };
  }
  if (rejectedBy === 'collector') {
    const topic = headers[H.topic];
    const partition = decimal(headers[H.partition]);
    const offset = headers[H.offset];
    if (topic === undefined || partition === undefined || offset === undefined || decimal(offset) === undefined) return undefined;
    return { reason, host, bytes, rejectedBy, topic, partition, offset };
  }
  return undefined;
}
