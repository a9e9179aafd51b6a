import { existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { collectorOptions, startCollector } from '@pintrace/collector';
import { agentOptions, DEFAULT_DECIDER_TOPIC, startAgent } from '@pintrace/logger-agent';
import { booleanSchema, commonOptions, createLogger, portSchema, resolveConfig, Shutdown } from '@pintrace/runtime';
import { startUiProxy, uiOptions } from '@pintrace/ui-proxy';
import { demoOptions, runDemo } from './demo.js';
import { load, type DevstackModule } from './optional-parts.js';
import { addOptions, configFrom } from './options.js';

const upOptionsOf = (devstackOptions: DevstackModule['devstackOptions']) => ({
  ...devstackOptions,
  topic: commonOptions.topic,
  spansDir: commonOptions.spansDir,
  rps: demoOptions.rps,
  sampleRate: demoOptions.sampleRate,
  frontendPort: demoOptions.frontendPort,
  backendPort: demoOptions.backendPort,
  uiPort: { ...uiOptions.port, key: 'uiPort', flag: 'ui-port' },
  memcachedPort: {
    key: 'memcachedPort',
    flag: 'memcached-port',
    env: 'PINTRACE_UP_MEMCACHED_PORT',
    description: 'Port of the memcached the demo backend caches in (0 = any free port)',
    default: '11211',
    schema: portSchema,
  },
  keepDevstack: {
    key: 'keepDevstack',
    flag: 'keep-devstack',
    env: 'PINTRACE_UP_KEEP_DEVSTACK',
    description: 'Leave Kafka, Elasticsearch and zipkin-server running after Ctrl-C (true/false)',
    default: 'false',
    schema: booleanSchema,
  },
});

export const UP_DESCRIPTION = 'Run the whole pipeline with demo traffic on the local devstack (what `npm start` runs); Ctrl-C stops it all';

const elapsed = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

/**
 * `pintrace up`: the whole pipeline on the local devstack with demo traffic — devstack, collector,
 * agent, ui-proxy, memcached and the demo services — until Ctrl-C, which stops intake first and
 * the servers last. A second `up` after a crash reuses what still runs and starts the rest.
 */
export function registerUp(program: Command, devstack: DevstackModule): void {
  const { clientConfigFile, down, kafkaBootstrap, storeClientUrl, up } = devstack;
  const upOptions = upOptionsOf(devstack.devstackOptions);
  const cmd = program.command('up').description(UP_DESCRIPTION);
  addOptions(cmd, upOptions);
  cmd.action(async () => {
    const config = configFrom(upOptions, cmd);
    // Before anything starts: without the demo there is nothing to run, and no devstack to stop.
    const { startMemcached } = await load('@pintrace/demo', 'up');
    const t0 = Date.now();
    const say = (line: string) => process.stderr.write(`${line}\n`);
    const step = (name: string, what: string) => say(`✔ ${name.padEnd(14)} ${what} (${elapsed(t0)})`);
    const logDir = path.resolve('var', 'log');
    mkdirSync(logDir, { recursive: true });
    const logFile = path.join(logDir, 'pintrace-up.log');
    const fd = openSync(logFile, 'a');
    const logger = (component: string) => createLogger(component, { fd });
    const log = logger('up');
    const shutdown = new Shutdown(log, 90_000);
    let stopping = false;
    process.once('SIGINT', () => {
      stopping = true;
      say('\nstopping: demo traffic, agent (final watermarks), collector (drain, commit), ui-proxy, then the servers…');
    });
    shutdown.installSignalHandlers((code) => {
      say(code === 0 ? 'stopped cleanly.' : `stopped with errors (exit ${code}); see ${logFile}`);
      process.exit(code);
    });
    try {
      say('starting the devstack (Kafka, Elasticsearch, zipkin-server)…');
      if (!config.keepDevstack) shutdown.add('devstack', () => down(config));
      await up(config);
      // The devstack writes how to reach it (security included, with --secure) to client-config.json,
      // which every part reads as its config file; a devstack another checkout runs may not have one.
      const clientConfig = clientConfigFile(config.dir);
      const file = existsSync(clientConfig) ? clientConfig : undefined;
      const reach = file ? {} : { kafka: kafkaBootstrap(config), es: storeClientUrl(config) };
      const shared = { ...reach, topic: config.topic, spansDir: config.spansDir };

      const collector = await startCollector(
        resolveConfig(collectorOptions, {
          flags: { ...shared, indexReplicas: config.storeNodes - 1, autocompleteKeys: config.autocompleteKeys },
          env: process.env,
          file,
        }),
        { log: logger('collector') },
      );
      shutdown.add('collector', () => collector.shutdown());
      step('collector', `metrics http://127.0.0.1:${collector.metricsPort}/metrics`);

      // The agent mirrors fleet decider values (`pintrace decider set … --fleet`) into the decider file the demo reads.
      const deciderTopic = process.env.PINTRACE_DECIDER_TOPIC || DEFAULT_DECIDER_TOPIC;
      // The agent's intake takes OTLP (4317/4318) from other languages, the demo's Python recommender
      // among them; its Zipkin route shares 4318, since zipkin-server holds 9411.
      const python = path.resolve('var', 'python-otel', 'bin', 'python');
      const recommenderPython = existsSync(python) ? python : '';
      const agent = await startAgent(
        resolveConfig(agentOptions, { flags: { ...shared, deciderTopic, intake: 'true', zipkinPort: '4318' }, env: process.env, file }),
        { log: logger('logger-agent') },
      );
      shutdown.add('agent', () => agent.shutdown());
      step(
        'agent',
        `tailing ${config.spansDir}, OTLP on :${agent.intake?.otlpHttpPort} (HTTP) and :${agent.intake?.otlpGrpcPort} (gRPC), metrics http://127.0.0.1:${agent.opsPort}/metrics`,
      );

      const ui = await startUiProxy(
        resolveConfig(uiOptions, {
          flags: { ...reach, topic: shared.topic, port: config.uiPort, autocompleteKeys: config.autocompleteKeys },
          env: process.env,
          file,
        }),
        { log: logger('ui-proxy') },
      );
      shutdown.add('ui-proxy', () => ui.shutdown());
      step('ui-proxy', ui.url);

      let memcached: string | undefined;
      try {
        const cache = await startMemcached({ port: config.memcachedPort });
        shutdown.add('memcached', () => cache.stop());
        memcached = cache.server;
        step('memcached', cache.server);
      } catch (err) {
        say(`! memcached      not started (${err instanceof Error ? err.message : String(err)}); the demo runs without its cache`);
      }

      const demo = await runDemo(
        resolveConfig(demoOptions, {
          flags: {
            spansDir: config.spansDir,
            rps: config.rps,
            sampleRate: config.sampleRate,
            frontendPort: config.frontendPort,
            backendPort: config.backendPort,
            memcached: memcached ?? '',
            recommenderPython,
            otlpEndpoint: `http://127.0.0.1:${agent.intake?.otlpHttpPort ?? 4318}/v1/traces`,
          },
          env: process.env,
        }),
        'up',
        logger('demo'),
      );
      shutdown.add('demo', () => demo.stop());
      step(
        'demo',
        `${demo.demo.frontendUrl} → ${demo.demo.backendUrl}${memcached ? ` → memcached ${memcached}` : ''}${recommenderPython ? ' → recommender (Python, OTLP)' : ''}, ${config.rps} req/s`,
      );

      say('');
      say(`Pintrace is up in ${elapsed(t0)}. Demo traces appear within seconds; look here:`);
      say(`  Zipkin UI       ${ui.url}`);
      say(`  dependencies    ${ui.url}dependency`);
      say(`  Zipkin API      ${ui.url.replace(/\/$/, '')}/api/v2/services`);
      say(`  metrics         http://127.0.0.1:${agent.opsPort}/metrics (agent), http://127.0.0.1:${collector.metricsPort}/metrics (collector)`);
      say(`  zipkin-server   http://127.0.0.1:${config.zipkinPort}/zipkin/ (the reference server, same data)`);
      say(`  sampling        npx pintrace decider set pintrace.sample_rate 10 [--fleet]   (percent, changed live)`);
      say(`  logs            ${logFile}`);
      say('Ctrl-C stops everything.');
    } catch (err) {
      if (stopping) return;
      say(`pintrace up: ${err instanceof Error ? err.message : String(err)}`);
      await shutdown.run().catch(() => undefined);
      process.exit(1);
    }
  });
}
