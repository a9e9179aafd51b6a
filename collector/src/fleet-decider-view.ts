/**
 * The adaptive sampler's view of the fleet decider topic: every key's latest value, read from the
 * compacted topic's beginning by a fresh consumer group (nothing committed), as each agent's
 * mirror reads it. The sampler needs it to know which values were set by hand and which computed
 * values are in force (its hysteresis compares with them), also after a restart.
 *
 * While Kafka is unreachable the last values stay; the consumer is rebuilt with backoff. `caughtUp`
 * turns true once the records that existed at connect time were read, so the first computation
 * does not mistake a value set by hand for a missing one.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { createAdmin, createConsumer, type TopicAdmin } from '@pintrace/kafka';
import { Backoff, sleep, type KafkaConnection, type Logger } from '@pintrace/runtime';
import { DECIDER_TOPIC_CONFIG, parseDeciderRecord } from '@pintrace/sampler';

export interface FleetDeciderViewOptions {
  kafka: KafkaConnection;
  topic: string;
  log: Logger;
  signal: AbortSignal;
}

export class FleetDeciderView {
  private readonly map = new Map<string, number>();
  private admin: TopicAdmin | undefined;
  private loop: Promise<void> | undefined;
  private end: (() => void) | undefined;
  /** Offset the consumer must pass before the view is complete (undefined = nothing to wait for). */
  private waitFor: bigint | undefined;
  connected = false;
  caughtUp = false;

  constructor(private readonly o: FleetDeciderViewOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Every value in force (name → percent). */
  values(): ReadonlyMap<string, number> {
    return this.map;
  }

  /** Applies values this process just published (acknowledged; null = a tombstone), before they come back from the topic. */
  applyPublished(values: ReadonlyMap<string, number | null>): void {
    for (const [k, v] of values) {
      if (v === null) this.map.delete(k);
      else this.map.set(k, v);
    }
  }

  async stopped(): Promise<void> {
    this.end?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { signal, log, topic, kafka } = this.o;
    const backoff = new Backoff({ initialMs: 500, maxMs: 15_000 });
    while (!signal.aborted) {
      const groupId = `pintrace-sampler-${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
      const consumer = createConsumer({
        ...kafka,
        groupId,
        topics: [topic],
        fromBeginning: true,
        maxWaitTimeMs: 100,
        clientId: 'pintrace-sampler',
        logger: log,
      });
      let end!: () => void;
      const ended = new Promise<void>((resolve) => (end = resolve));
      this.end = end;
      const onAbort = () => end();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        this.admin ??= createAdmin(kafka.brokers, { client: kafka.client, security: kafka.security, clientId: 'pintrace-sampler', logger: log });
        await this.admin.ensureTopic(topic, 1, { ...DECIDER_TOPIC_CONFIG });
        if (!this.caughtUp) {
          const ends = await this.admin.endOffsets(topic);
          const last = ends.reduce((m, e) => (BigInt(e.offset) > m ? BigInt(e.offset) : m), 0n);
          this.waitFor = last > 0n ? last : undefined;
          if (this.waitFor === undefined) this.caughtUp = true;
        }
        consumer.onError((err) => {
          log.warn({ err, topic }, 'fleet decider consumer stopped; rebuilding it (the last values stay in force)');
          end();
        });
        await consumer.connect();
        await consumer.run(async (batch) => {
          for (const m of batch.messages) {
            const rec = parseDeciderRecord(m);
            if (rec !== undefined) {
              if (rec.value === undefined) this.map.delete(rec.name);
              else this.map.set(rec.name, rec.value);
            }
            if (this.waitFor !== undefined && BigInt(m.offset) + 1n >= this.waitFor) {
              this.waitFor = undefined;
              this.caughtUp = true;
              log.info({ topic, values: this.map.size }, 'fleet decider values read');
            }
          }
        });
        this.connected = true;
        backoff.reset();
        await ended;
      } catch (err) {
        log.warn({ err, topic }, 'cannot read the fleet decider topic; the last values stay in force, retrying');
      } finally {
        this.connected = false;
        signal.removeEventListener('abort', onAbort);
      }
      await consumer.disconnect().catch(() => undefined);
      if (!signal.aborted) await sleep(backoff.next(), signal).catch(() => undefined);
    }
    await this.admin?.close().catch(() => undefined);
  }
}
