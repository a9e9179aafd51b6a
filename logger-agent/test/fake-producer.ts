import type { KafkaMessage, SpanProducer } from '@pintrace/kafka';

export interface SentBatch {
  topic: string;
  messages: KafkaMessage[];
}

/**
 * An in-memory SpanProducer for tests. `acked` holds what a real broker would have acknowledged;
 * `attempts` every send. Set `down` to fail every send like an unreachable cluster, `failNext`
 * to fail a number of sends, `hold()` to keep sends pending until release(), and `storeThenFail`
 * to model a lost acknowledgement (the broker stored the batch but the agent saw an error).
 */
export class FakeProducer implements SpanProducer {
  readonly acked: SentBatch[] = [];
  readonly attempts: SentBatch[] = [];
  down = false;
  failNext = 0;
  storeThenFail = 0;
  /** connect() calls that fail before one succeeds. */
  connectFailures = 0;
  connects = 0;
  disconnects = 0;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  async connect(): Promise<void> {
    this.connects++;
    if (this.connectFailures > 0) {
      this.connectFailures--;
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'KAFKA_CONNECTION', retryable: true });
    }
  }

  async send(topic: string, messages: KafkaMessage[]): Promise<void> {
    this.attempts.push({ topic, messages });
    if (this.gate) await this.gate;
    // Stored as late as a client may read them (the agent reuses its buffers once a send settles):
    // buffers overwritten while the send was pending would show here.
    const batch = { topic, messages: messages.map((m) => ({ ...m, value: Buffer.isBuffer(m.value) ? Buffer.from(m.value) : m.value })) };
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'KAFKA_CONNECTION', retryable: true });
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('request timed out'), { code: 'KAFKA_TIMEOUT', retryable: true });
    }
    this.acked.push(batch);
    if (this.storeThenFail > 0) {
      this.storeThenFail--;
      throw Object.assign(new Error('ack lost'), { code: 'KAFKA_TIMEOUT', retryable: true });
    }
  }

  async disconnect(): Promise<void> {
    this.disconnects++;
  }

  /** Sends wait until release(). */
  hold(): void {
    this.gate ??= new Promise<void>((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
    this.open = undefined;
  }

  /** Every acknowledged span, in the order the broker stored them. */
  spans(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const b of this.acked) for (const m of b.messages) out.push(...(JSON.parse(m.value!.toString()) as Array<Record<string, unknown>>));
    return out;
  }

  /** Span ids acknowledged, in order. */
  ids(): string[] {
    return this.spans().map((s) => String(s.id));
  }
}
