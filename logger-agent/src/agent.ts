import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createProducer, type SpanProducer } from '@pintrace/kafka';
import {
  createLogger,
  createRegistry,
  kafkaConnectionOf,
  limitHeapGrowth,
  startOpsServer,
  type BackoffOptions,
  type HealthReport,
  type Logger,
  type OpsServer,
} from '@pintrace/runtime';
import type { Registry } from 'prom-client';
import { DeadLetterWriter } from './dead-letter.js';
import { DeciderMirror } from './decider-mirror.js';
import { DirectoryMonitor } from './dir-monitor.js';
import { startIntake, type Intake } from './intake/intake.js';
import { KafkaWriter } from './kafka-writer.js';
import { listStreams } from './log-stream.js';
import { AgentMetrics } from './metrics.js';
import { INTAKE_HEAP_GROWING_PERCENT, type AgentConfig } from './options.js';
import { lockStateDir } from './state-lock.js';
import { ArenaPool, StreamProcessor, type StreamStatus } from './stream-processor.js';
import { WatermarkStore } from './watermark.js';

/** What startAgent can be given instead of building it from the config. */
export interface AgentDeps {
  /** The Kafka producer (default: createProducer from @pintrace/kafka with the config's brokers). */
  producer?: SpanProducer;
  log?: Logger;
  /** Metrics registry (default: a new one with Node's process metrics). */
  registry?: Registry;
  /** Retry timing of Kafka writes (default 100 ms doubling to 10 s). */
  backoff?: BackoffOptions;
  /** Serve /metrics and /health (default true). */
  opsServer?: boolean;
  /** The fleet decider mirror's consumer (tests; default a @pintrace/kafka consumer). */
  deciderConsumer?: ConstructorParameters<typeof DeciderMirror>[0]['consumer'];
}

export interface Agent {
  readonly metrics: AgentMetrics;
  readonly registry: Registry;
  /** Port of /metrics and /health, or undefined when not served. */
  readonly opsPort: number | undefined;
  /** The state directory holding the watermarks. */
  readonly stateDir: string;
  /** The OTLP / Zipkin intake, when --intake is on. */
  readonly intake: Intake | undefined;
  /** Per-stream position and lag. */
  streams(): StreamStatus[];
  health(): HealthReport;
  /**
   * Stops reading, lets each stream's in-flight batch be acknowledged and its watermark written
   * (a batch whose send fails from then on is left for the next start), then disconnects.
   * Idempotent.
   */
  shutdown(): Promise<void>;
}

/**
 * Starts the logger agent: tails every `*.jsonl` stream in config.spansDir and ships its span
 * lines to config.topic, one Zipkin v2 JSON list per trace per batch, keyed by trace id, with
 * watermarks in the state directory advanced only after Kafka acknowledged the data.
 */
export async function startAgent(config: AgentConfig, deps: AgentDeps = {}): Promise<Agent> {
  const log = deps.log ?? createLogger('logger-agent');
  limitHeapGrowth(config.heapGrowingPercent ?? (config.intake ? INTAKE_HEAP_GROWING_PERCENT : 0));
  const registry = deps.registry ?? createRegistry();
  const metrics = new AgentMetrics(registry);
  const spansDir = config.spansDir;
  const stateDir = config.stateDir ?? path.join(spansDir, '.pintrace-agent');
  await mkdir(spansDir, { recursive: true });
  await mkdir(stateDir, { recursive: true });
  const unlock = await lockStateDir(stateDir);

  const abort = new AbortController();
  const kafka = kafkaConnectionOf(config);
  const producer =
    deps.producer ??
    createProducer({
      ...kafka,
      logger: log, // the client's own lines go where the agent's go (a file under `pintrace up`)
      clientId: `pintrace-agent-${os.hostname()}-${process.pid}`,
      compression: config.compression,
      topics: [config.topic],
      // Each stream waits on its batch before producing the next: no per-message report needed.
      deliveryReports: 'drain',
    });
  const writer = new KafkaWriter({ producer, topic: config.topic, metrics, log, signal: abort.signal, backoff: deps.backoff });
  writer.connectEarly();
  const deadLetters = config.deadLetterTopic === undefined ? undefined : new DeadLetterWriter({ writer, topic: config.deadLetterTopic, metrics, log });
  const decider =
    config.deciderTopic === undefined
      ? undefined
      : new DeciderMirror({ kafka, topic: config.deciderTopic, file: config.deciderFile, metrics, log, signal: abort.signal, consumer: deps.deciderConsumer });
  const store = new WatermarkStore(stateDir);
  const processors = new Map<string, StreamProcessor>();
  const limits = { maxBytes: config.batchBytes, maxLines: config.batchLines, maxLineBytes: config.maxLineBytes };
  const arenas = ArenaPool.forLimits(limits);

  const ensure = (stream: string): StreamProcessor => {
    let p = processors.get(stream);
    if (p === undefined) {
      p = new StreamProcessor({
        stream,
        dir: spansDir,
        store,
        writer,
        metrics,
        log,
        limits,
        arenas,
        pollIntervalMs: config.pollIntervalMs,
        rotationGraceMs: config.rotationGraceMs,
        checkJson: config.checkJson,
        lingerMs: config.lingerMs,
        deadLetters,
        retentionMs: config.retentionSeconds * 1000,
        signal: abort.signal,
      });
      processors.set(stream, p);
      metrics.streams.set(processors.size);
      log.info({ stream }, 'tailing new span log stream');
      p.start();
    }
    return p;
  };

  let scanning = false;
  let lastRetention = 0;
  const rescan = async () => {
    if (scanning || abort.signal.aborted) return;
    scanning = true;
    try {
      for (const s of await listStreams(spansDir)) ensure(s);
      const retention = config.retentionSeconds > 0 && Date.now() - lastRetention > 10_000;
      if (retention) lastRetention = Date.now();
      for (const p of processors.values()) {
        p.wake();
        await p.refreshLag().catch(() => undefined);
        if (retention) await p.applyRetention();
        // a stream whose files are all gone (a finished per-process stream) ends here; were its
        // name to come back, ensure() starts a new processor from a fresh watermark
        if (await p.drained()) {
          processors.delete(p.name);
          metrics.streams.set(processors.size);
          await p.retire();
          log.info({ stream: p.name }, 'span log stream has no files left; no longer tailed');
        }
      }
    } catch (err) {
      metrics.errors.inc({ kind: 'scan' });
      log.warn({ err, dir: spansDir }, 'cannot list the spans directory');
    } finally {
      scanning = false;
    }
  };

  const monitor = new DirectoryMonitor({
    dir: spansDir,
    pollIntervalMs: config.pollIntervalMs,
    log,
    metrics,
    onChange: (stream) => {
      if (abort.signal.aborted) return;
      if (stream === undefined) void rescan();
      else ensure(stream).wake();
    },
  });

  const health = (): HealthReport => ({
    ok: writer.healthy,
    checks: {
      kafka: writer.healthy ? 'UP' : { status: 'DOWN', error: writer.lastErrorMessage },
      streams: [...processors.values()].map((p) => p.status()),
    },
  });

  let ops: OpsServer | undefined;
  try {
    if (deps.opsServer !== false) {
      ops = await startOpsServer({ port: config.metricsPort, host: config.metricsHost, registry, health });
    }
  } catch (err) {
    await unlock();
    throw err;
  }
  let intake: Intake | undefined;
  if (config.intake) {
    const shippedLag = async (stream: string) => {
      const p = processors.get(stream);
      if (p === undefined) return undefined;
      await p.refreshLag();
      return p.status().lagBytes;
    };
    try {
      intake = await startIntake({ ...config, spansDir }, { registry, log, shippedLag });
    } catch (err) {
      await ops?.close();
      await unlock();
      throw err;
    }
  }
  monitor.start();
  decider?.start();
  await rescan();
  log.info(
    {
      spansDir,
      stateDir,
      topic: config.topic,
      brokers: config.kafka,
      metricsPort: ops?.port,
      compression: config.compression,
      deadLetterTopic: config.deadLetterTopic,
      deciderTopic: config.deciderTopic,
      deciderFile: decider ? config.deciderFile : undefined,
    },
    'logger agent started',
  );

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      log.info('logger agent stopping: finishing in-flight batches');
      await intake?.close();
      monitor.stop();
      abort.abort();
      await Promise.all([...processors.values()].map((p) => p.stopped()));
      await decider?.stopped();
      await writer.disconnect().catch((err: unknown) => log.warn({ err }, 'Kafka disconnect failed'));
      await ops?.close();
      await unlock();
      log.info({ streams: [...processors.values()].map((p) => p.status()) }, 'logger agent stopped');
    })());

  return {
    metrics,
    registry,
    opsPort: ops?.port,
    stateDir,
    intake,
    streams: () => [...processors.values()].map((p) => p.status()),
    health,
    shutdown,
  };
}
