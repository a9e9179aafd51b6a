import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { createAdmin, createConsumer, type ConsumedMessage, type SpanConsumer, type TopicAdmin } from '@pintrace/kafka';
import { Backoff, sleep, type KafkaConnection, type Logger } from '@pintrace/runtime';
import { DECIDER_TOPIC_CONFIG, parseDeciderRecord, readDeciderFile, writeDeciderFile } from '@pintrace/sampler';
import type { AgentMetrics } from './metrics.js';

export { DECIDER_TOPIC_CONFIG, parseDeciderRecord };

export interface DeciderMirrorOptions {
  kafka: KafkaConnection;
  topic: string;
  /** The local decider file the tracer reads. */
  file: string;
  metrics: AgentMetrics;
  log: Logger;
  signal: AbortSignal;
  /** Consumer factory (tests); default @pintrace/kafka's createConsumer. */
  consumer?: (groupId: string) => SpanConsumer;
}

/**
 * KingPin's ZooKeeper update monitor without ZooKeeper: the agent on every host reads the
 * compacted fleet decider topic from its beginning (a fresh group each start, nothing
 * committed, so every host sees every key's latest value) and mirrors it into the local decider
 * file: each batch of records is applied to the file's current content (keys the topic does not
 * mention are kept; a tombstone removes its key) and the file is replaced atomically when
 * something changed. While Kafka is unreachable nothing is written, so the last file stays in
 * force; the consumer is rebuilt with backoff until the broker answers again.
 */
export class DeciderMirror {
  private consumer: SpanConsumer | undefined;
  private admin: TopicAdmin | undefined;
  private applying: Promise<void> = Promise.resolve();
  private loop: Promise<void> | undefined;
  private failed: (() => void) | undefined;
  /** Delay from the record's produce time to the file write, last seen (ms). */
  lastDelayMs: number | undefined;

  constructor(private readonly o: DeciderMirrorOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stopped(): Promise<void> {
    this.failed?.();
    await this.loop;
    await this.applying;
  }

  private async run(): Promise<void> {
    const { signal, log, metrics, topic } = this.o;
    const backoff = new Backoff({ initialMs: 500, maxMs: 15_000 });
    while (!signal.aborted) {
      const groupId = `pintrace-decider-${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
      const consumer =
        this.o.consumer?.(groupId) ??
        createConsumer({ ...this.o.kafka, groupId, topics: [topic], fromBeginning: true, maxWaitTimeMs: 100, clientId: 'pintrace-agent-decider', logger: log });
      this.consumer = consumer;
      let end!: () => void;
      const ended = new Promise<void>((resolve) => (end = resolve));
      this.failed = end;
      const onAbort = () => end();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        if (this.o.consumer === undefined) {
          this.admin ??= createAdmin(this.o.kafka.brokers, {
            client: this.o.kafka.client,
            security: this.o.kafka.security,
            clientId: 'pintrace-agent-decider',
            logger: log,
          });
          await this.admin.ensureTopic(topic, 1, { ...DECIDER_TOPIC_CONFIG });
        }
        consumer.onError((err) => {
          log.warn({ err, topic }, 'fleet decider consumer stopped; rebuilding it (the decider file stays as it is)');
          end();
        });
        await consumer.connect();
        await consumer.run((batch) => this.enqueue(batch.messages));
        backoff.reset();
        log.info({ topic, file: this.o.file }, 'mirroring fleet decider values into the local decider file');
        await ended;
      } catch (err) {
        metrics.errors.inc({ kind: 'decider' });
        log.warn({ err, topic }, 'cannot read the fleet decider topic; the decider file stays as it is, retrying');
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      await consumer.disconnect().catch(() => undefined);
      if (!signal.aborted) await sleep(backoff.next(), signal);
    }
    await this.admin?.close();
  }

  private enqueue(messages: ConsumedMessage[]): Promise<void> {
    const next = this.applying.then(() => this.apply(messages));
    this.applying = next.catch(() => undefined);
    return next;
  }

  /** Applies records in order to the file's current content; writes only when it changed. */
  private async apply(messages: ConsumedMessage[]): Promise<void> {
    const { metrics, log, file } = this.o;
    const updates = new Map<string, number | undefined>();
    let newest = 0;
    for (const m of messages) {
      const rec = parseDeciderRecord(m);
      if (rec === undefined) {
        metrics.deciderUpdates.inc({ result: 'invalid' });
        log.warn({ offset: m.offset, key: m.key?.toString('utf8').slice(0, 100) }, 'fleet decider record is not name → percent; ignored');
        continue;
      }
      updates.set(rec.name, rec.value);
      newest = Math.max(newest, Number(m.timestamp));
    }
    if (updates.size === 0) return;
    let current: Awaited<ReturnType<typeof readDeciderFile>>;
    try {
      current = await readDeciderFile(file);
    } catch (err) {
      // A corrupt local file: the fleet values replace the broken content rather than leave it.
      log.warn({ err, file }, 'local decider file unreadable; rewriting it from the fleet values');
      current = new Map<string, number>();
    }
    const next = new Map(current);
    for (const [name, value] of updates) {
      if (value === undefined) next.delete(name);
      else next.set(name, value);
    }
    const changed = next.size !== current.size || [...next].some(([k, v]) => current.get(k) !== v);
    if (!changed) {
      metrics.deciderUpdates.inc({ result: 'unchanged' }, updates.size);
      return;
    }
    try {
      await writeDeciderFile(file, next);
    } catch (err) {
      metrics.errors.inc({ kind: 'decider' });
      log.error({ err, file }, 'cannot write the decider file');
      throw err;
    }
    metrics.deciderUpdates.inc({ result: 'written' }, updates.size);
    this.lastDelayMs = newest > 0 ? Date.now() - newest : undefined;
    log.info(
      { file, updates: Object.fromEntries([...updates].map(([k, v]) => [k, v ?? null])), delayMs: this.lastDelayMs },
      'decider file updated from the fleet topic',
    );
  }
}
