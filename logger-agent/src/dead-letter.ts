import os from 'node:os';
import type { KafkaMessage } from '@pintrace/kafka';
import { deadLetterHeaders } from '@pintrace/model';
import type { Logger } from '@pintrace/runtime';
import type { KafkaWriter } from './kafka-writer.js';
import type { AgentMetrics } from './metrics.js';

/** A line that is not a span, or the head of one too long to ship. */
export interface Reject {
  reason: string;
  line: string;
}

export interface DeadLetterOptions {
  writer: KafkaWriter;
  topic: string;
  metrics: AgentMetrics;
  log: Logger;
  /** Tries per batch of rejects before they are dropped (counted); default 5. */
  maxAttempts?: number;
}

/** Most characters of one dead letter's value (a longer line is cut; the header `bytes` keeps its length). */
const MAX_VALUE_CHARS = 256 * 1024;

/**
 * Sends lines that are not spans to a dead-letter topic: the raw line (decoded as UTF-8) as the
 * value, keyed by stream so one stream's rejects stay in order, with the dead-letter headers of
 * @pintrace/model (the collector writes the same schema). Dead letters never hold the stream: each batch of them gets a bounded number of
 * tries (Kafka being down already holds the stream through the span send before it), and what
 * cannot be written is counted as `dead_letters_total{result="dropped"}` and logged.
 */
export class DeadLetterWriter {
  private readonly host = os.hostname();

  constructor(private readonly o: DeadLetterOptions) {}

  get topic(): string {
    return this.o.topic;
  }

  /** Writes the rejects of one batch; resolves once they are acknowledged, dropped or the agent stops. */
  async send(stream: string, file: string, batchOffset: number, rejects: readonly Reject[]): Promise<void> {
    if (rejects.length === 0) return;
    const { writer, topic, metrics, log } = this.o;
    const messages: KafkaMessage[] = rejects.map((r) => ({
      key: stream,
      value: r.line.length > MAX_VALUE_CHARS ? r.line.slice(0, MAX_VALUE_CHARS) : r.line,
      headers: deadLetterHeaders({
        reason: r.reason,
        rejectedBy: 'logger-agent',
        host: this.host,
        bytes: Buffer.byteLength(r.line),
        stream,
        file,
        batchOffset,
      }),
    }));
    let result = await writer.write(messages, topic, this.o.maxAttempts ?? 5);
    if (result === 'too_large' && messages.length > 1) {
      // One by one, so one oversized record does not take the others with it.
      let sent = 0;
      for (const m of messages) if ((await writer.write([m], topic, this.o.maxAttempts ?? 5)) === 'acked') sent++;
      metrics.deadLetters.inc({ result: 'sent' }, sent);
      metrics.deadLetters.inc({ result: 'dropped' }, messages.length - sent);
      return;
    }
    if (result === 'acked') {
      metrics.deadLetters.inc({ result: 'sent' }, messages.length);
      return;
    }
    if (result === 'stopped') result = 'gave_up';
    metrics.deadLetters.inc({ result: 'dropped' }, messages.length);
    log.warn({ topic, lines: messages.length, result }, 'dead letters could not be written; dropped (counted)');
  }
}
