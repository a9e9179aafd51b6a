/**
 * A running collector: the Kafka consumer, the pipeline, Elasticsearch, /metrics and /health,
 * and the drain on shutdown (stop fetching, finish what is in flight, commit, disconnect).
 */
import { createConsumer, type SpanConsumer } from '@pintrace/kafka';
import { createLogger, createRegistry, startOpsServer, type Logger, type OpsServer } from '@pintrace/runtime';
import type { Registry } from 'prom-client';
import { commitReady } from './commit.js';
import { CollectorError } from './errors.js';
import { createCollectorMetrics } from './metrics.js';
import type { CollectorConfig } from './options.js';
import { buildPipeline } from './pipeline.js';
import { createStorage, type CollectorStorage } from './storage.js';

export interface CollectorDeps {
  /** Default: a kafkajs-backed group member from @pintrace/kafka. */
  consumer?: SpanConsumer;
  /** Default: Elasticsearch through @pintrace/storage. */
  storage?: CollectorStorage;
  log?: Logger;
  registry?: Registry;
  /** How long shutdown waits for in-flight batches before giving up on them; default 20 s. */
  drainTimeoutMs?: number;
  /** Backoff bounds of whole-bulk retries; defaults 200 ms and 30 s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface Collector {
  /** Port of /metrics and /health. */
  readonly metricsPort: number;
  /** Resolves when the collector stopped: after shutdown, or rejects on a fatal error. */
  readonly done: Promise<void>;
  /** Drains and stops; idempotent. */
  shutdown(): Promise<void>;
}

export async function startCollector(config: CollectorConfig, deps: CollectorDeps = {}): Promise<Collector> {
  const log = deps.log ?? createLogger('collector');
  const registry = deps.registry ?? createRegistry();
  const metrics = createCollectorMetrics(registry);
  const storage =
    deps.storage ??
    createStorage({ url: config.es, indexPrefix: config.indexPrefix, shards: config.indexShards, replicas: config.indexReplicas, log });
  await storage.ensureReady();

  const consumer =
    deps.consumer ?? createConsumer({ brokers: config.kafka, groupId: config.groupId, topics: [config.topic], fromBeginning: true });
  const abort = new AbortController();
  let lastWrite: { ok: boolean; error?: string; at?: string } = { ok: true };
  const pipeline = buildPipeline({
    consumer,
    writer: storage.writer,
    metrics,
    log,
    batchSize: config.batchSize,
    batchTimeMs: config.batchTimeMs,
    minBackoffMs: deps.minBackoffMs,
    maxBackoffMs: deps.maxBackoffMs,
    signal: abort.signal,
    onStorageState: (ok, error) => {
      lastWrite = ok ? { ok } : { ok, error: String(error), at: new Date().toISOString() };
    },
  });

  let ops: OpsServer | undefined;
  let consumerUp = false;
  let stopping: Promise<void> | undefined;
  let settle!: { resolve: () => void; reject: (err: unknown) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  done.catch(() => {}); // the caller may not listen; failures are logged below

  try {
    consumer.onRebalance((assigned) => {
      pipeline.tracker.retainOnly(assigned);
      log.info({ assigned }, 'partitions assigned');
    });
    consumer.onError((err) => {
      consumerUp = false;
      log.error({ err }, 'consumer failed; stopping the collector');
      void stop(new CollectorError('COLLECTOR_CONSUMER_FAILED', `Kafka consumer failed: ${err.message}`, true, { cause: err }));
    });
    await consumer.connect();
    consumerUp = true;
    ops = await startOpsServer({
      port: config.metricsPort,
      registry,
      health: async () => {
        const store = await storage.check();
        const ok = store.ok && lastWrite.ok && consumerUp;
        return { ok, checks: { elasticsearch: store, lastWrite, kafka: { ok: consumerUp } } };
      },
    });
  } catch (err) {
    await consumer.disconnect().catch(() => {});
    await storage.close();
    throw err;
  }

  const finished = new Promise<void>((resolve, reject) => {
    pipeline.committed$.subscribe({ error: reject, complete: resolve });
  });
  finished.catch((err: unknown) => {
    if (!stopping) {
      log.error({ err }, 'pipeline failed; stopping the collector');
      void stop(err);
    }
  });
  log.info({ topic: config.topic, groupId: config.groupId, es: config.es, indexPrefix: config.indexPrefix, metricsPort: ops.port }, 'collector started');

  async function drain(fatal: unknown): Promise<void> {
    if (fatal === undefined) log.info('draining: no more fetching, finishing in-flight batches');
    try {
      consumer.pause(consumer.assignment());
    } catch (err) {
      log.debug({ err }, 'pause before drain failed');
    }
    pipeline.stop();
    const timeoutMs = deps.drainTimeoutMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref();
    });
    const outcome = await Promise.race([finished.then(() => 'drained' as const, () => 'failed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      log.warn({ timeoutMs, inFlight: pipeline.tracker.inFlight() }, 'drain timed out; in-flight batches stay uncommitted');
      abort.abort();
      await finished.catch(() => {});
    }
    await commitReady({ consumer, tracker: pipeline.tracker, metrics, log });
    await consumer.disconnect().catch((err: unknown) => log.warn({ err }, 'consumer disconnect failed'));
    await storage.close();
    await ops?.close();
    log.info({ outcome }, 'collector stopped');
  }

  function stop(fatal?: unknown): Promise<void> {
    stopping ??= drain(fatal).then(
      () => (fatal === undefined ? settle.resolve() : settle.reject(fatal)),
      (err: unknown) => settle.reject(err),
    );
    return stopping;
  }

  return {
    metricsPort: ops.port,
    done,
    shutdown: () => stop(),
  };
}
