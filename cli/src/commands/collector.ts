import type { Command } from 'commander';
import { collectorOptions, startCollector } from '@pintrace/collector';
import { createLogger, relaunchWithinMemoryBudget, Shutdown } from '@pintrace/runtime';
import { addOptions, configFrom } from './options.js';

/**
 * `pintrace collector`: reads span lists from Kafka, validates, adjusts, filters and groups them, and writes them (plus dependency links) to
 * Elasticsearch in Zipkin's format; runs until SIGTERM/SIGINT, then drains and commits.
 */
export function registerCollector(program: Command): void {
  const cmd = program
    .command('collector')
    .description(
      "Consume spans from Kafka, validate, adjust, filter and group them, and store them and their dependency links in Elasticsearch in Zipkin's format",
    );
  addOptions(cmd, collectorOptions);
  cmd.action(async () => {
    const config = configFrom(collectorOptions, cmd);
    const log = createLogger('collector');
    // first: this replaces the process (same pid) when it was not started within the budget
    relaunchWithinMemoryBudget('collector', config.memoryBudgetMb ?? 0, log);
    const starting = startCollector(config, { log });
    new Shutdown(log).addStarting('collector', starting, (collector) => collector.shutdown()).installSignalHandlers();
    const collector = await starting;
    // A fatal error (the consumer or the pipeline failed) ends the process non-zero, so a
    // supervisor restarts it from the last committed offsets.
    await collector.done.catch((err: unknown) => {
      log.error({ err }, 'collector failed');
      process.exit(1);
    });
  });
}
