import type { KafkaMessage, SpanProducer } from '@pintrace/kafka';
import { Backoff, sleep, type BackoffOptions, type Logger } from '@pintrace/runtime';
import type { AgentMetrics } from './metrics.js';

/** Outcome of one write: acknowledged, abandoned because the agent stops, or too large for the broker. */
export type WriteResult = 'acked' | 'stopped' | 'too_large' | 'gave_up';

export interface KafkaWriterOptions {
  producer: SpanProducer;
  topic: string;
  metrics: AgentMetrics;
  log: Logger;
  /** Aborted when the agent shuts down: no new attempt starts after that. */
  signal: AbortSignal;
  backoff?: BackoffOptions;
}

interface ErrorInfo {
  code?: unknown;
  retryable?: unknown;
  message?: unknown;
}

/**
 * Sends batches to Kafka and does not give up: a failed send is retried with backoff until it
 * is acknowledged or the agent stops. The caller awaits write() before reading more, so while
 * Kafka is unreachable nothing more is read (the span file is the buffer) and memory stays at one
 * batch per stream. The producer is shared by every stream.
 */
export class KafkaWriter {
  private connected: Promise<void> | undefined;
  private failing = false;
  private lastFailureLog = 0;
  private suppressed = 0;
  private lastError: string | undefined;

  constructor(private readonly options: KafkaWriterOptions) {}

  /** False while the last attempt failed (the /health check). */
  get healthy(): boolean {
    return !this.failing;
  }
  get lastErrorMessage(): string | undefined {
    return this.lastError;
  }

  /**
   * Connects now rather than on the first batch, so the first lines do not wait for it. A failure
   * here is only left for write(), which retries connecting with backoff.
   */
  connectEarly(): void {
    if (this.connected !== undefined) return;
    const connecting = this.options.producer.connect();
    this.connected = connecting;
    connecting.catch((err: unknown) => {
      if (this.connected !== connecting) return;
      this.connected = undefined;
      this.options.metrics.errors.inc({ kind: 'kafka_connect' });
      this.failed(err, 'connect', this.options.topic);
    });
  }

  /**
   * Sends until acknowledged (or the agent stops, or the broker rejects the batch as too large).
   * `maxAttempts` bounds the tries for writes that must not hold the stream (dead letters):
   * after that many failures the result is 'gave_up'.
   */
  async write(messages: KafkaMessage[], topic = this.options.topic, maxAttempts = Infinity): Promise<WriteResult> {
    return this.writeChunks([messages], topic, maxAttempts);
  }

  /**
   * The same for one batch given in chunks, which may be built lazily: on the first attempt each
   * chunk is handed to the producer as soon as it is built, so the client compresses and sends
   * it (on its own threads, with librdkafka) while the next chunk is being built. 'acked' means
   * every chunk was acknowledged; after a failure all of them are sent again (duplicates at worst).
   */
  async writeChunks(chunks: Iterable<KafkaMessage[]>, topic = this.options.topic, maxAttempts = Infinity): Promise<WriteResult> {
    const { producer, metrics, signal } = this.options;
    const pending = chunks[Symbol.iterator]();
    const built: KafkaMessage[][] = [];
    // Nothing to send (every line was rejected): Kafka is not needed.
    while (!built.some((chunk) => chunk.length > 0)) {
      const next = pending.next();
      if (next.done) return 'acked';
      built.push(next.value);
    }
    const backoff = new Backoff(this.options.backoff);
    for (;;) {
      if (signal.aborted && backoff.failures > 0) return 'stopped';
      if (backoff.failures >= maxAttempts) return 'gave_up';
      const started = process.hrtime.bigint();
      try {
        this.connected ??= producer.connect();
        await this.connected;
      } catch (err) {
        this.connected = undefined;
        metrics.errors.inc({ kind: 'kafka_connect' });
        this.failed(err, 'connect', topic);
        if (!(await sleep(backoff.next(), signal))) return 'stopped';
        continue;
      }
      let messages = 0;
      try {
        const sends: Array<Promise<void>> = [];
        for (let i = 0; ; i++) {
          if (i === built.length) {
            const next = pending.next();
            if (next.done) break;
            built.push(next.value);
          }
          const chunk = built[i];
          if (chunk.length === 0) continue;
          messages += chunk.length;
          const sending = producer.send(topic, chunk);
          sending.catch(() => undefined); // awaited below; another chunk's failure must not leave it unhandled
          sends.push(sending);
        }
        await Promise.all(sends);
      } catch (err) {
        metrics.errors.inc({ kind: 'kafka_send' });
        const info = (err ?? {}) as ErrorInfo;
        if (info.code === 'KAFKA_MESSAGE_TOO_LARGE') {
          this.failed(err, 'send', topic);
          return 'too_large';
        }
        if (info.code === 'KAFKA_NOT_CONNECTED') this.connected = undefined;
        this.failed(err, 'send', topic);
        if (!(await sleep(backoff.next(), signal))) return 'stopped';
        continue;
      }
      metrics.sendSeconds.observe({ topic }, Number(process.hrtime.bigint() - started) / 1e9);
      metrics.acks.inc({ topic });
      metrics.messages.inc({ topic }, messages);
      if (this.failing) {
        this.failing = false;
        this.lastError = undefined;
        this.options.log.info({ topic, suppressed: this.suppressed }, 'Kafka writes succeed again');
        this.suppressed = 0;
      }
      return 'acked';
    }
  }

  async disconnect(): Promise<void> {
    if (this.connected === undefined) return;
    this.connected = undefined;
    await this.options.producer.disconnect();
  }

  /** Logs the first failure, then at most one line every 30 s with the count in between. */
  private failed(err: unknown, op: string, topic: string): void {
    const info = (err ?? {}) as ErrorInfo;
    this.failing = true;
    this.lastError = typeof info.message === 'string' ? info.message : String(err);
    const now = Date.now();
    if (now - this.lastFailureLog < 30_000) {
      this.suppressed++;
      return;
    }
    this.lastFailureLog = now;
    this.options.log.warn(
      { op, topic, code: info.code, retryable: info.retryable, err: this.lastError, suppressed: this.suppressed },
      'Kafka write failed; holding the stream and retrying with backoff',
    );
    this.suppressed = 0;
  }
}
