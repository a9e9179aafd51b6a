#!/usr/bin/env node
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

const program = new Command('pintrace')
  .description('Pintrace-TS: tracing pipeline for Node services (tracer → span files → agent → Kafka → collector → Elasticsearch → Zipkin UI)')
  .showHelpAfterError()
  .enablePositionalOptions();

registerCommands(program)
  .then(() => program.parseAsync(process.argv))
  .catch((err: unknown) => {
    process.stderr.write(`pintrace: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
