import type { Command } from 'commander';
import { z } from 'zod';
import type { Demo } from '@pintrace/demo';
import { DeciderRateSource, FileDecider, deciderFilePath } from '@pintrace/sampler';
import { commonOptions, createLogger, portSchema, Shutdown, type ConfigOf, type Logger, type OptionSpec } from '@pintrace/runtime';
import { load } from './optional-parts.js';
import { addOptions, configFrom } from './options.js';

export const demoOptions = {
  spansDir: commonOptions.spansDir,
  frontendPort: {
    key: 'frontendPort',
    flag: 'frontend-port',
    env: 'PINTRACE_DEMO_FRONTEND_PORT',
    description: 'Port of the demo frontend (0 = any free port)',
    default: '8081',
    schema: portSchema,
  },
  backendPort: {
    key: 'backendPort',
    flag: 'backend-port',
    env: 'PINTRACE_DEMO_BACKEND_PORT',
    description: 'Port of the demo backend (0 = any free port)',
    default: '8082',
    schema: portSchema,
  },
  rps: {
    key: 'rps',
    flag: 'rps',
    env: 'PINTRACE_DEMO_RPS',
    description: 'Requests per second the demo traffic sends to the frontend (0 = no traffic)',
    default: '5',
    schema: z.coerce.number().min(0, 'expected requests per second ≥ 0').max(10_000),
  },
  memcached: {
    key: 'memcached',
    flag: 'memcached',
    env: 'PINTRACE_DEMO_MEMCACHED',
    description: 'memcached the demo backend caches in, host:port (empty = no cache)',
    default: '',
    schema: z
      .string()
      .trim()
      .regex(/^$|^[A-Za-z0-9.\-_]+:\d{1,5}$/, 'expected host:port'),
  },
  sampleRate: {
    key: 'sampleRate',
    flag: 'sample-rate',
    env: 'PINTRACE_DEMO_SAMPLE_RATE',
    description: 'Percent of demo traces sampled until the decider sets pintrace.sample_rate[.frontend] (fractions allowed, e.g. 0.3)',
    default: '100',
    schema: z.coerce.number().min(0, 'a percentage is 0-100').max(100, 'a percentage is 0-100'),
  },
  deciderFile: {
    key: 'deciderFile',
    flag: 'decider-file',
    env: 'PINTRACE_DECIDER_FILE',
    description: 'Decider file the sampling rate is read from, live (`pintrace decider set pintrace.sample_rate 10`)',
    default: deciderFilePath(undefined, {}),
    schema: z.string().trim().min(1),
  },
  recommenderPython: {
    key: 'recommenderPython',
    flag: 'recommender-python',
    env: 'PINTRACE_DEMO_RECOMMENDER_PYTHON',
    description:
      'A Python with the OpenTelemetry SDK (npm run setup makes var/python-otel/bin/python): runs the polyglot recommender service, reporting over OTLP to --otlp-endpoint (empty = off; `pintrace up` uses var/python-otel when present)',
    default: '',
    schema: z.string().trim(),
  },
  otlpEndpoint: {
    key: 'otlpEndpoint',
    flag: 'otlp-endpoint',
    env: 'PINTRACE_DEMO_OTLP_ENDPOINT',
    description: "OTLP/HTTP traces URL the recommender exports to (the agent's --intake)",
    default: 'http://127.0.0.1:4318/v1/traces',
    schema: z.string().trim().url('expected a URL'),
  },
} satisfies Record<string, OptionSpec>;

export type DemoConfig = ConfigOf<typeof demoOptions>;

export interface RunningDemo {
  demo: Demo;
  stop(): Promise<void>;
}

/**
 * Starts the demo services and, if rps > 0, steady traffic until stop(). The frontend is the root
 * of every trace, so its rate decides: a decider value, hot-reloaded from the decider file.
 * `command` names the command in the message when @pintrace/demo is not installed; `log` takes
 * the decider's and the tracers' own lines (default: JSON on stderr).
 */
export async function runDemo(config: DemoConfig, command = 'demo', log?: Logger): Promise<RunningDemo> {
  const { driveTraffic, startDemo } = await load('@pintrace/demo', command);
  const decider = new FileDecider({ path: config.deciderFile, logger: log });
  const rate = new DeciderRateSource({ decider, serviceName: 'frontend', defaultRate: config.sampleRate });
  const demo = await startDemo({
    spansDir: config.spansDir,
    frontendPort: config.frontendPort,
    backendPort: config.backendPort,
    sampleRate: rate,
    memcachedUrl: config.memcached || undefined,
    logger: log,
    recommender: config.recommenderPython ? { python: config.recommenderPython, otlpEndpoint: config.otlpEndpoint } : undefined,
  }).catch(async (err: unknown) => {
    rate.close();
    await decider.shutdown();
    throw err;
  });
  const traffic = new AbortController();
  const driving =
    config.rps > 0
      ? driveTraffic(demo.frontendUrl, { rps: config.rps, durationMs: Number.POSITIVE_INFINITY, signal: traffic.signal })
      : Promise.resolve(undefined);
  return {
    demo,
    stop: async () => {
      traffic.abort();
      await driving.catch(() => undefined);
      await demo.shutdown();
      rate.close();
      await decider.shutdown();
    },
  };
}

/** `pintrace demo`: the instrumented demo services (HTTP frontend → Thrift backend → memcached) with steady traffic. */
export function registerDemo(program: Command): void {
  const cmd = program.command('demo').description('Run the instrumented demo services (HTTP frontend → Thrift backend → memcached) with steady traffic');
  addOptions(cmd, demoOptions);
  cmd.action(async () => {
    const config = configFrom(demoOptions, cmd);
    const log = createLogger('demo');
    const running = await runDemo(config);
    log.info({ frontend: running.demo.frontendUrl, backend: running.demo.backendUrl, spansDir: config.spansDir, rps: config.rps }, 'demo services up');
    const keepAlive = setInterval(() => undefined, 1 << 30);
    new Shutdown(log)
      .add('keep-alive', () => clearInterval(keepAlive))
      .add('demo', () => running.stop())
      .installSignalHandlers();
  });
}
