import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { collectorOptions, startCollector } from '@pintrace/collector';
import { devstackOptions, down, up } from '@pintrace/devstack';
import { agentOptions, startAgent } from '@pintrace/logger-agent';
import { commonOptions, createLogger, resolveConfig, Shutdown } from '@pintrace/runtime';
import { demoOptions, runDemo } from './demo.js';
import { addOptions, configFrom } from './options.js';

const upOptions = {
  ...devstackOptions,
  topic: commonOptions.topic,
  spansDir: commonOptions.spansDir,
  rps: demoOptions.rps,
  sampleRate: demoOptions.sampleRate,
};

const elapsed = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

/**
 * `pintrace up`: the whole pipeline on the local devstack with demo traffic — devstack, collector,
 * agent, demo services — until Ctrl-C, which stops intake first and the servers last.
 */
export function registerUp(program: Command): void {
  const cmd = program.command('up').description('Run the whole pipeline with demo traffic on the local devstack (what `npm start` runs)');
  addOptions(cmd, upOptions);
  cmd.action(async () => {
    const config = configFrom(upOptions, cmd);
    const t0 = Date.now();
    const say = (line: string) => process.stderr.write(`${line}\n`);
    const logDir = path.resolve('var', 'log');
    mkdirSync(logDir, { recursive: true });
    const logFile = path.join(logDir, 'pintrace-up.log');
    const fd = openSync(logFile, 'a');
    const log = createLogger('up', { fd });
    const shutdown = new Shutdown(log, 60_000);
    let stopping = false;
    process.once('SIGINT', () => {
      stopping = true;
      say('\nstopping: demo traffic, agent (final watermarks), collector (drain, commit), then the servers…');
    });
    shutdown.installSignalHandlers((code) => {
      say(code === 0 ? 'stopped cleanly.' : `stopped with errors (exit ${code}); see ${logFile}`);
      process.exit(code);
    });
    try {
      say('starting the devstack (Kafka, Elasticsearch, zipkin-server)…');
      shutdown.add('devstack', () => down(config));
      await up(config);
      const shared = { kafka: `127.0.0.1:${config.kafkaPort}`, es: `http://127.0.0.1:${config.esPort}`, topic: config.topic, spansDir: config.spansDir };

      say(`… collector       starting (${elapsed(t0)})`);
      const collector = await startCollector(
        resolveConfig(collectorOptions, { flags: { ...shared, indexReplicas: 0 }, env: process.env }),
        { log: createLogger('collector', { fd }) },
      );
      shutdown.add('collector', () => collector.shutdown());
      say(`✔ collector       ready: metrics http://127.0.0.1:${collector.metricsPort}/metrics (${elapsed(t0)})`);

      const agent = await startAgent(resolveConfig(agentOptions, { flags: shared, env: process.env }), { log: createLogger('logger-agent', { fd }) });
      shutdown.add('agent', () => agent.shutdown());
      say(`✔ agent           ready: tailing ${config.spansDir}, metrics http://127.0.0.1:${agent.opsPort}/metrics (${elapsed(t0)})`);

      const demo = await runDemo(resolveConfig(demoOptions, { flags: { spansDir: config.spansDir, rps: config.rps, sampleRate: config.sampleRate }, env: process.env }));
      shutdown.add('demo', () => demo.stop());
      say(`✔ demo            ready: ${demo.demo.frontendUrl} → ${demo.demo.backendUrl}, ${config.rps} req/s (${elapsed(t0)})`);

      say('');
      say(`Pintrace is up in ${elapsed(t0)}. Demo traces appear within seconds:`);
      say(`  Zipkin UI   http://127.0.0.1:${config.zipkinPort}/zipkin/?serviceName=frontend`);
      say(`  Zipkin API  http://127.0.0.1:${config.zipkinPort}/api/v2/services`);
      say(`  logs        ${logFile}`);
      say('Ctrl-C stops everything.');
    } catch (err) {
      if (stopping) return;
      say(`pintrace up: ${err instanceof Error ? err.message : String(err)}`);
      await shutdown.run().catch(() => undefined);
      process.exit(1);
    }
  });
}
