import type { Command } from 'commander';
import { samplerOptions, startAdaptiveSampler } from '@pintrace/collector';
import { createLogger, Shutdown } from '@pintrace/runtime';
import { addOptions, configFrom } from './options.js';

/**
 * `pintrace sampler`: the adaptive sampling loop. Reads the collector's RED windows from the store
 * and publishes per-service and per-endpoint sample rates (`pintrace.sample_rate_auto.*`) to the
 * fleet decider topic, so each endpoint keeps about --target-traces-per-second; runs until
 * SIGTERM/SIGINT. Needs collectors running with --red-window-ms and agents with --decider-topic.
 */
export function registerSampler(program: Command): void {
  const cmd = program
    .command('sampler')
    .description(
      'Adaptive sampling: set per-service and per-endpoint sample rates from the stored RED windows so each endpoint keeps about --target-traces-per-second (published to the fleet decider topic; values set by hand win)',
    );
  addOptions(cmd, samplerOptions);
  cmd.action(async () => {
    const config = configFrom(samplerOptions, cmd);
    const log = createLogger('sampler');
    const shutdown = new Shutdown(log);
    try {
      const starting = startAdaptiveSampler(config, { log });
      shutdown.addStarting('sampler', starting, (sampler) => sampler.shutdown()).installSignalHandlers();
      await starting;
    } catch (err) {
      if (err instanceof RangeError) {
        process.stderr.write(`pintrace sampler: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
  });
}
