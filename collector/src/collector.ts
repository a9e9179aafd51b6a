/**
 * A running collector: the Kafka consumer, the pipeline, Elasticsearch, /metrics and /health,
 * and the drain on shutdown (stop fetching, finish what is in flight, commit, disconnect).
 *
 * Start-up waits, as zipkin's Kafka collector does, for what may appear later: an unreachable
 * Elasticsearch or Kafka, a topic not created yet. /health says DOWN with the reason meanwhile.
 * What cannot get better by waiting (an unsupported Elasticsearch version, say) rejects `done`.
 */
import { createAdmin, createConsumer, createProducer, type SpanConsumer, type SpanProducer, type TopicAdmin } from '@pintrace/kafka';
import {
  Backoff,
  createLogger,
  createRegistry,
  isRetryable,
  kafkaConnectionOf,
  limitHeapGrowth,
  redactUrl,
  startOpsServer,
  storeConnectionOf,
  type Logger,
} from '@pintrace/runtime';
import type { Registry } from 'prom-client';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { commitReady } from './commit.js';
import { CollectorError } from './errors.js';
import { startLagProbe, type LagProbe } from './lag-probe.js';
import { createCollectorMetrics } from './metrics.js';
import { createRedMetrics } from './red-metrics.js';
import { RedWindows } from './red-windows.js';
import type { CollectorConfig } from './options.js';
import { FinagleAdjuster } from './adjusters/finagle-adjuster.js';
import { FinagleIssue343Adjuster } from './adjusters/finagle-issue343-adjuster.js';
import { NameNormalizer } from './adjusters/name-normalizer.js';
import type { SpanAdjuster } from './adjusters/span-adjuster.js';
import { parseFilterRule } from './filter-spans.js';
import { buildPipeline } from './pipeline.js';
import { createStorage, type CollectorStorage } from './storage.js';

export interface CollectorDeps {
  /** Default: a group member from @pintrace/kafka's createConsumer. */
  consumer?: SpanConsumer;
  /** Default: Elasticsearch through @pintrace/storage. */
  storage?: CollectorStorage;
  /** Producer for the dead-letter topic; default one from @pintrace/kafka (none when disabled). */
  producer?: SpanProducer;
  /** Admin client for the consumer-lag probe; default one from @pintrace/kafka, none when `consumer` is given without it. */
  admin?: Pick<TopicAdmin, 'endOffsets' | 'groupOffsets' | 'close'>;
  /** How often consumer lag is probed; default 10 s. */
  lagProbeMs?: number;
  log?: Logger;
  registry?: Registry;
  /** How long shutdown waits for in-flight batches before giving up on them; default 20 s. */
  drainTimeoutMs?: number;
  /** Longest pause between start-up attempts; default 10 s. */
  maxStartBackoffMs?: number;
}

export interface Collector {
  /** Port of /metrics and /health. */
  readonly metricsPort: number;
  /** Resolves when the collector stopped after shutdown(); rejects on a fatal error. */
  readonly done: Promise<void>;
  /** Drains and stops; idempotent. */
  shutdown(): Promise<void>;
}

export async function startCollector(config: CollectorConfig, deps: CollectorDeps = {}): Promise<Collector> {
  const log = deps.log ?? createLogger('collector');
  limitHeapGrowth(config.heapGrowingPercent ?? 0);
  const registry = deps.registry ?? createRegistry();
  const metrics = createCollectorMetrics(registry);
  const red = createRedMetrics(registry);
  let lastWrite: { ok: boolean; error?: string; at?: string } = { ok: true };
  const writeFailed = (error: unknown) => {
    lastWrite = { ok: false, error: String(error), at: new Date().toISOString() };
  };
  const storage =
    deps.storage ??
    createStorage({
      connection: storeConnectionOf(config),
      indexPrefix: config.indexPrefix,
      shards: config.indexShards,
      replicas: config.indexReplicas,
      log,
      onRetry: writeFailed,
      autocompleteKeys: config.autocompleteKeys,
      maxConcurrency: config.sinkConcurrency,
      maxBatchDocs: config.batchSize,
      red: config.redWindowMs > 0,
    });
  // The Kafka clients' own lines go where the collector's go (a file under `pintrace up`).
  const kafka = { ...kafkaConnectionOf(config), logger: log };
  const consumer =
    deps.consumer ??
    createConsumer({
      ...kafka,
      groupId: config.groupId,
      topics: [config.topic],
      clientId: 'pintrace-collector',
      fromBeginning: true,
      sessionTimeoutMs: config.sessionTimeoutMs,
      heartbeatIntervalMs: Math.min(3000, Math.floor(config.sessionTimeoutMs / 3)),
    });
  const deadLetterTopic = config.deadLetterTopic ?? `${config.topic}-dlq`;
  const producer = deadLetterTopic === 'none' ? undefined : (deps.producer ?? createProducer({ ...kafka, clientId: 'pintrace-collector-dlq' }));
  let producerConnected: Promise<void> | undefined;
  const admin =
    deps.admin ??
    (deps.consumer
      ? undefined
      : createAdmin(kafka.brokers, { client: kafka.client, security: kafka.security, clientId: 'pintrace-collector-lag', logger: log }));
  let lagProbe: LagProbe | undefined;
  const adjusters: SpanAdjuster[] = [];
  if (config.adjustFinagle) adjusters.push(new FinagleAdjuster());
  if (config.adjustFinagleIssue343) adjusters.push(new FinagleIssue343Adjuster());
  if (config.serviceAliases !== undefined || config.spanNamePatterns !== undefined) {
    adjusters.push(new NameNormalizer({ serviceAliases: config.serviceAliases, spanNamePatterns: config.spanNamePatterns }));
  }
  const abort = new AbortController();
  const pipeline = buildPipeline({
    consumer,
    writer: storage.writer,
    metrics,
    log,
    batchTimeMs: config.batchTimeMs,
    maxHeldSpans: config.maxHeldSpans,
    group: {
      inactivityMs: config.groupWindowMs,
      maxAgeMs: config.groupMaxAgeMs,
      maxSpansPerTrace: config.groupMaxSpansPerTrace,
      maxOpenTraces: config.groupMaxTraces,
    },
    adjusters,
    filters: config.filters.map(parseFilterRule),
    tailSample:
      config.tailSampleRate === undefined
        ? undefined
        : {
            rate: config.tailSampleRate,
            latencyThresholdUs: config.tailLatencyMs === undefined ? undefined : config.tailLatencyMs * 1000,
            decisionCacheSize: config.tailDecisionCache,
          },
    red:
      config.redWindowMs > 0
        ? {
            windows: new RedWindows({
              windowMs: config.redWindowMs,
              collectorId: collectorInstanceId(config.groupId),
              onOverflow: (label) => red.overflowed.inc({ label }),
            }),
            metrics: red,
            store: storage.redWindows,
          }
        : undefined,
    dependencies: config.dependencies ? { store: storage.dependencies, groupId: config.groupId, flushMs: config.dependencyFlushMs } : undefined,
    deadLetter:
      producer === undefined
        ? undefined
        : {
            topic: deadLetterTopic,
            producer: {
              send: async (topic, messages) => {
                producerConnected ??= producer.connect().catch((err: unknown) => {
                  producerConnected = undefined;
                  throw err;
                });
                await producerConnected;
                await producer.send(topic, messages);
              },
            },
          },
    signal: abort.signal,
    onStorageState: (ok, error) => {
      if (ok) lastWrite = { ok };
      else writeFailed(error);
    },
  });

  const phase: { name: 'starting' | 'running' | 'stopping'; waitingFor?: string } = { name: 'starting' };
  let consumerUp = false;
  const ops = await startOpsServer({
    port: config.metricsPort,
    registry,
    health: async () => {
      const store = await storage.check();
      const ok = phase.name === 'running' && store.ok && lastWrite.ok && consumerUp;
      return { ok, checks: { phase: phase.name, waitingFor: phase.waitingFor, elasticsearch: store, lastWrite, kafka: { ok: consumerUp } } };
    },
  });

  let settle!: { resolve: () => void; reject: (err: unknown) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  done.catch(() => {}); // callers may not listen; failures are logged
  let stopping: Promise<void> | undefined;
  let wake: () => void = () => {};

  /** Runs `attempt` until it succeeds, a non-retryable error, or shutdown (then false). */
  async function untilReady(what: string, attempt: () => Promise<void>): Promise<boolean> {
    const backoff = new Backoff({ initialMs: 500, maxMs: deps.maxStartBackoffMs ?? 10_000 });
    for (;;) {
      if (stopping) return false;
      try {
        await attempt();
        phase.waitingFor = undefined;
        return true;
      } catch (err) {
        if (!isRetryable(err)) throw err;
        phase.waitingFor = `${what}: ${(err as Error).message}`;
        const delay = backoff.next();
        log.warn({ err: (err as Error).message, code: (err as { code?: unknown }).code, attempt: backoff.failures, retryInMs: delay }, `waiting for ${what}`);
        await new Promise<void>((resolve) => {
          // Not unref'd: while it waits, this timer is the only thing the process has to do (the
          // ops server is unref'd), and an unref'd timer let the collector exit 0 instead of waiting.
          // shutdown() clears it through wake().
          const timer = setTimeout(resolve, delay);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  let finished: Promise<void> | undefined;
  const starting = (async () => {
    if (!(await untilReady(`the store at ${redactUrl(config.es)}`, () => storage.ensureReady()))) return;
    consumer.onRebalance((assigned) => {
      pipeline.retainOnly(assigned);
      log.info({ assigned }, 'partitions assigned');
    });
    consumer.onError((err) => {
      consumerUp = false;
      log.error({ err }, 'consumer failed; stopping the collector');
      void stop(new CollectorError('COLLECTOR_CONSUMER_FAILED', `Kafka consumer failed: ${err.message}`, { retryable: true, cause: err }));
    });
    if (!(await untilReady(`Kafka topic ${config.topic}`, () => consumer.connect()))) return;
    consumerUp = true;
    finished = new Promise<void>((resolve, reject) => {
      pipeline.committed$.subscribe({ error: reject, complete: resolve });
    });
    finished.catch((err: unknown) => {
      if (stopping) return;
      log.error({ err }, 'pipeline failed; stopping the collector');
      void stop(err);
    });
    phase.name = 'running';
    if (admin) {
      lagProbe = startLagProbe({ admin, consumer, metrics, log, groupId: config.groupId, topic: config.topic, intervalMs: deps.lagProbeMs });
    }
    log.info(
      { topic: config.topic, groupId: config.groupId, es: redactUrl(config.es), indexPrefix: config.indexPrefix, metricsPort: ops.port },
      'collector running',
    );
  })();
  starting.catch((err: unknown) => {
    log.error({ err }, 'collector could not start');
    void stop(err);
  });

  async function drain(fatal: unknown): Promise<string> {
    phase.name = 'stopping';
    wake();
    await starting.catch(() => {});
    lagProbe?.stop();
    let outcome = 'not started';
    if (finished) {
      if (fatal === undefined) log.info('draining: no more fetching, finishing in-flight batches');
      try {
        consumer.pause(consumer.assignment());
      } catch (err) {
        log.debug({ err }, 'pause before drain failed');
      }
      pipeline.stop();
      const timeoutMs = deps.drainTimeoutMs ?? 20_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timed out'>((resolve) => {
        timer = setTimeout(() => resolve('timed out'), timeoutMs);
        timer.unref();
      });
      outcome = await Promise.race([
        finished.then(
          () => 'drained',
          () => 'failed',
        ),
        timedOut,
      ]);
      clearTimeout(timer);
      if (outcome === 'timed out') {
        log.warn({ timeoutMs, inFlight: pipeline.tracker.inFlight() }, 'drain timed out; in-flight batches stay uncommitted');
        abort.abort();
        await storage.close(); // interrupts writes still retrying inside the writer
        await finished.catch(() => {});
      }
      await commitReady({ consumer, tracker: pipeline.tracker, metrics, log });
    }
    await consumer.disconnect().catch((err: unknown) => log.warn({ err }, 'consumer disconnect failed'));
    if (producerConnected) await producer?.disconnect().catch((err: unknown) => log.warn({ err }, 'dead-letter producer disconnect failed'));
    consumerUp = false;
    await admin?.close().catch((err: unknown) => log.warn({ err }, 'admin client close failed'));
    await storage.close();
    await ops.close();
    return outcome;
  }

  function stop(fatal?: unknown): Promise<void> {
    stopping ??= drain(fatal).then(
      (outcome) => {
        log.info({ outcome }, 'collector stopped');
        if (fatal === undefined) settle.resolve();
        else settle.reject(fatal);
      },
      (err: unknown) => settle.reject(err),
    );
    return stopping;
  }

  return { metricsPort: ops.port, done, shutdown: () => stop() };
}

/**
 * Names this collector process in its RED window documents: unique per process and start, so two
 * collectors (or one restarted) never write the same document id.
 */
function collectorInstanceId(groupId: string): string {
  return `${groupId}/${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
}
