/**
 * `pintrace sampler`: the adaptive sampling loop. Every interval it reads the closed RED windows
 * of the lookback from the store (stored roots and their scaled count, per service and sampling
 * endpoint), computes the rates that keep each endpoint at `--target-traces-per-second`
 * (sampler's computeAdaptiveRates: floor, ceiling, hysteresis, hand-set values win) and publishes
 * the changed ones to the compacted fleet decider topic as `pintrace.sample_rate_auto.*`. Every
 * agent mirrors the topic into its host's decider file and the tracers hot-reload it, so the loop
 * is: tracer → agent → Kafka → collector (windows) → store → this → decider topic → agent → tracer.
 *
 * It is a decider producer, nothing more: when Kafka or the store is unreachable it publishes
 * nothing and the rates last published stay in force everywhere (the agents keep their files).
 */
import os from 'node:os';
import { createProducer, type SpanProducer } from '@pintrace/kafka';
import { createLogger, createRegistry, kafkaConnectionOf, redactUrl, sleep, startOpsServer, storeConnectionOf, type Logger } from '@pintrace/runtime';
import { checkAdaptiveConfig, computeAdaptiveRates, forgetComputedRates, type AdaptiveConfig, type AdaptiveDecision } from '@pintrace/sampler';
import { createEsHttp, ElasticsearchRedWindowStore, type RootWindow } from '@pintrace/storage';
import { Counter, Gauge, type Registry } from 'prom-client';
import { FleetDeciderView } from './fleet-decider-view.js';
import type { SamplerConfig } from './sampler-options.js';

export interface AdaptiveSamplerDeps {
  log?: Logger;
  registry?: Registry;
  now?: () => number;
}

/** What one round did. */
export interface SamplerRound {
  result: 'published' | 'unchanged' | 'no_windows' | 'waiting_for_decider' | 'store_failed' | 'publish_failed';
  decisions: AdaptiveDecision[];
  published: ReadonlyMap<string, number>;
  /** Computed values removed this round: their endpoints had no traffic for `forgetAfterMs`. */
  forgotten: readonly string[];
}

export interface AdaptiveSampler {
  readonly metricsPort: number;
  /** One computation now (the loop runs them every interval). */
  round(): Promise<SamplerRound>;
  /** The fleet decider values this process knows (hand-set and computed). */
  values(): ReadonlyMap<string, number>;
  /** Stops the loop, the consumer and the producer; idempotent. */
  shutdown(): Promise<void>;
}

/**
 * A window is read once it is surely closed and searchable: the collector closes it a window
 * after its end (plus the time its spans take to arrive), and the store makes it searchable
 * within its refresh interval (1 s by default).
 */
const SETTLE_MS = 2_500;
/** Window length assumed before any window was seen. */
const DEFAULT_WINDOW_MS = 10_000;

export async function startAdaptiveSampler(config: SamplerConfig, deps: AdaptiveSamplerDeps = {}): Promise<AdaptiveSampler> {
  const log = deps.log ?? createLogger('sampler');
  const now = deps.now ?? Date.now;
  const control: AdaptiveConfig = {
    targetTracesPerSecond: config.targetTracesPerSecond,
    minRate: config.minSampleRate,
    maxRate: config.maxSampleRate,
    hysteresis: config.hysteresis,
  };
  checkAdaptiveConfig(control);
  const registry = deps.registry ?? createRegistry();
  const metric = (n: string) => `pintrace_sampler_${n}`;
  const registers = [registry];
  const rounds = new Counter({ name: metric('rounds_total'), help: 'Computations by result', labelNames: ['result'], registers });
  const decisionsTotal = new Counter({ name: metric('decisions_total'), help: 'Endpoint and service decisions by reason', labelNames: ['reason'], registers });
  const publishedTotal = new Counter({ name: metric('published_values_total'), help: 'Computed decider values published (acknowledged)', registers });
  const forgottenTotal = new Counter({
    name: metric('forgotten_values_total'),
    help: 'Computed decider values removed (tombstones acknowledged) after their endpoint had no traffic for the forget-after time',
    registers,
  });
  const rateGauge = new Gauge({
    name: metric('rate_percent'),
    help: 'Computed sample rate in force per service and endpoint (endpoint "" = the service value)',
    labelNames: ['service', 'endpoint'],
    registers,
  });
  const observedGauge = new Gauge({
    name: metric('observed_traces_per_second'),
    help: 'Stored traces per second over the lookback per service and endpoint',
    labelNames: ['service', 'endpoint'],
    registers,
  });

  const kafka = { ...kafkaConnectionOf(config), logger: log };
  const abort = new AbortController();
  const view = new FleetDeciderView({ kafka, topic: config.deciderTopic, log, signal: abort.signal });
  view.start();
  const store = new ElasticsearchRedWindowStore({ http: createEsHttp(storeConnectionOf(config)), index: config.indexPrefix });
  let producer: SpanProducer | undefined;
  let windowMs = DEFAULT_WINDOW_MS;
  let last: { result: SamplerRound['result']; at?: string; error?: string } = { result: 'no_windows' };
  // how long each computed value has gone without traffic, counted over rounds that read windows
  let absentMs: ReadonlyMap<string, number> = new Map();
  let lastComputedAt: number | undefined;

  /** `null` values are tombstones: the key is removed from the topic and every decider file. */
  async function publish(values: ReadonlyMap<string, number | null>): Promise<void> {
    if (producer === undefined) {
      const p = createProducer({
        ...kafka,
        clientId: `pintrace-sampler-${os.hostname()}`,
        requestTimeoutMs: Math.max(5_000, Math.min(config.intervalMs, 30_000)),
        autoCreateTopics: false,
        topics: [config.deciderTopic],
      });
      try {
        await p.connect();
      } catch (err) {
        await p.disconnect().catch(() => undefined);
        throw err;
      }
      producer = p;
    }
    try {
      await producer.send(
        config.deciderTopic,
        [...values].map(([key, value]) => ({ key, value: value === null ? null : String(value) })),
      );
    } catch (err) {
      // a fresh producer next round: the client may be stuck on a dead connection
      const p = producer;
      producer = undefined;
      await p.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async function round(): Promise<SamplerRound> {
    const t = now();
    const empty = new Map<string, number>();
    const done = (
      result: SamplerRound['result'],
      decisions: AdaptiveDecision[] = [],
      published: ReadonlyMap<string, number> = empty,
      error?: unknown,
      forgotten: readonly string[] = [],
    ) => {
      rounds.inc({ result });
      last = { result, at: new Date(t).toISOString(), ...(error !== undefined ? { error: String(error) } : {}) };
      return { result, decisions, published, forgotten };
    };
    if (!view.caughtUp) return done('waiting_for_decider');
    let windows: RootWindow[];
    const reach = config.lookbackMs + 3 * windowMs + SETTLE_MS;
    try {
      windows = await store.rootWindows({ begin: t - reach, end: t });
    } catch (err) {
      log.warn({ err }, 'cannot read the RED windows; the rates in force stay');
      return done('store_failed', [], empty, err);
    }
    if (windows.length === 0) return done('no_windows');
    windowMs = Math.max(...windows.map((w) => w.windowMs || 0)) || DEFAULT_WINDOW_MS;
    // closed windows only: starts before `end`; the lookback is whole windows before it
    const end = Math.floor((t - windowMs - windowMs - SETTLE_MS) / windowMs) * windowMs;
    const begin = end - Math.max(1, Math.round(config.lookbackMs / windowMs)) * windowMs;
    const inRange = windows.filter((w) => w.timestamp >= begin && w.timestamp < end);
    if (inRange.length === 0) return done('no_windows');
    // the controller counts as time only the windows that hold anything: when the whole pipeline
    // was silent (Kafka down, collectors stopped) nothing is known, which is not the same as idle
    const out = computeAdaptiveRates({
      windows: inRange,
      seconds: (end - begin) / 1000,
      windowMs,
      decider: view.values(),
      config: control,
    });
    // the series are this round's endpoints: ones gone from the lookback do not stay forever
    observedGauge.reset();
    for (const d of out.decisions) {
      decisionsTotal.inc({ reason: d.reason });
      if (d.endpoint !== undefined) observedGauge.set({ service: d.serviceName, endpoint: d.endpoint }, d.observed);
    }
    // a gap between computing rounds longer than an interval was a silent pipeline: not counted
    const elapsedMs = lastComputedAt === undefined ? 0 : Math.min(t - lastComputedAt, config.intervalMs);
    const absence =
      config.forgetAfterMs > 0
        ? forgetComputedRates({ absentMs, decider: view.values(), decisions: out.decisions, elapsedMs, forgetAfterMs: config.forgetAfterMs })
        : { absentMs, forget: [] };
    const changes = new Map<string, number | null>(out.set);
    for (const key of absence.forget) changes.set(key, null);
    if (changes.size > 0) {
      try {
        await publish(changes);
      } catch (err) {
        // the absence clock is not advanced either: the removals are retried next round
        log.warn({ err, topic: config.deciderTopic }, 'cannot publish the computed rates; the rates last published stay in force');
        return done('publish_failed', out.decisions, empty, err);
      }
      view.applyPublished(changes);
      publishedTotal.inc(out.set.size);
      forgottenTotal.inc(absence.forget.length);
      if (absence.forget.length > 0) log.info({ keys: absence.forget, afterMs: config.forgetAfterMs }, 'computed rates without traffic removed');
    }
    absentMs = absence.absentMs;
    lastComputedAt = t;
    if (out.set.size > 0) {
      log.info(
        {
          changes: out.decisions
            .filter((d) => out.set.has(d.key))
            .map((d) => ({ key: d.key, from: d.current ?? null, to: d.proposed, observed: round3(d.observed), traffic: round3(d.traffic) })),
        },
        'sample rates published',
      );
    }
    const values = view.values();
    rateGauge.reset();
    for (const d of out.decisions) {
      const value = values.get(d.key);
      if (value !== undefined) rateGauge.set({ service: d.serviceName, endpoint: d.endpoint ?? '' }, value);
    }
    return done(changes.size > 0 ? 'published' : 'unchanged', out.decisions, out.set, undefined, absence.forget);
  }

  const ops = await startOpsServer({
    port: config.metricsPort,
    registry,
    health: () => {
      const failing = last.result === 'store_failed' || last.result === 'publish_failed';
      return {
        ok: view.caughtUp && !failing,
        checks: { decider: { connected: view.connected, caughtUp: view.caughtUp, values: view.values().size }, lastRound: last },
      };
    },
  });

  const loop = (async () => {
    while (await sleep(config.intervalMs, abort.signal)) {
      try {
        await round();
      } catch (err) {
        log.error({ err }, 'sampler round failed');
      }
    }
  })();

  log.info(
    {
      topic: config.deciderTopic,
      es: redactUrl(config.es),
      indexPrefix: config.indexPrefix,
      targetTracesPerSecond: config.targetTracesPerSecond,
      minSampleRate: config.minSampleRate,
      maxSampleRate: config.maxSampleRate,
      metricsPort: ops.port,
    },
    'adaptive sampler running',
  );

  let stopping: Promise<void> | undefined;
  return {
    metricsPort: ops.port,
    round,
    values: () => view.values(),
    shutdown() {
      stopping ??= (async () => {
        abort.abort();
        await loop;
        await view.stopped();
        await producer?.disconnect().catch(() => undefined);
        store.shutdown();
        await ops.close();
      })();
      return stopping;
    },
  };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
