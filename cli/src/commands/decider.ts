import type { Command } from 'commander';
import { DeciderFormatError, deciderFilePath, readDeciderFile, setDeciderValue } from '@pintrace/sampler';
import { DEFAULT_DECIDER_TOPIC, publishDeciderValue } from '@pintrace/logger-agent';
import { commonOptions, createLogger, kafkaConnectionOf, kafkaConnectionOptions, topicSchema, type OptionSpec } from '@pintrace/runtime';
import { addOptions, configFrom } from './options.js';

/** Options every `pintrace decider` subcommand takes. */
interface DeciderFlags {
  deciderFile?: string;
  json?: boolean;
  fleet?: boolean;
}

/** With --fleet: the Kafka connection every part shares, and the fleet topic. */
const fleetOptions = {
  kafka: commonOptions.kafka,
  ...kafkaConnectionOptions,
  deciderTopic: {
    key: 'deciderTopic',
    flag: 'decider-topic',
    env: 'PINTRACE_DECIDER_TOPIC',
    description: 'with --fleet: the fleet decider topic',
    default: DEFAULT_DECIDER_TOPIC,
    schema: topicSchema,
  } satisfies OptionSpec<string>,
};

/**
 * `--fleet`: publish to the compacted fleet topic instead of writing the local file; every
 * `pintrace agent --decider-topic` mirrors it into its host's decider file. Returns false when
 * the command is local.
 */
async function publishIfFleet(cmd: Command, name: string, value: number | undefined): Promise<boolean> {
  if (!cmd.optsWithGlobals<DeciderFlags>().fleet) return false;
  const config = configFrom(fleetOptions, cmd);
  const kafka = kafkaConnectionOf(config);
  // The Kafka client's retry chatter stays out of a CLI's output; a failure is reported once below.
  const logger = createLogger('kafka', { level: 'fatal' });
  const { name: key } = await publishDeciderValue(name, value, { kafka, topic: config.deciderTopic, logger });
  process.stdout.write(
    `${key}: ${value === undefined ? 'unset' : value} published to the fleet (topic ${config.deciderTopic} on ${kafka.brokers.join(',')})\n`,
  );
  return true;
}

/** The --fleet options of set and unset. */
function withFleetOptions(cmd: Command): Command {
  cmd.option('--fleet', 'publish to every host (compacted Kafka topic mirrored by each `pintrace agent --decider-topic`) instead of the local file');
  return addOptions(cmd, fleetOptions);
}

function fileOf(cmd: Command): string {
  return deciderFilePath(cmd.optsWithGlobals<DeciderFlags>().deciderFile);
}

function fail(message: string, code = 1): never {
  process.stderr.write(`pintrace decider: ${message}\n`);
  process.exit(code);
}

async function guarded(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (err instanceof DeciderFormatError) fail(err.message, 2);
    fail(err instanceof Error ? err.message : String(err));
  }
}

/**
 * `pintrace decider get|set|unset|list`: reads and writes the local decider file (a KingPin-style
 * managed hashmap of name → percent). Writes are atomic (temp file in the same directory, fsync,
 * rename), so running services hot-reload either the old or the new file. The file is
 * `--decider-file`, else `PINTRACE_DECIDER_FILE`, else `./var/config/decider.json`.
 */
export function registerDecider(program: Command): void {
  const decider = program
    .command('decider')
    .description('Read and change decider values (sample rates: pintrace.sample_rate[.<service>[.<endpoint>]], percent)')
    .option('--decider-file <path>', 'decider JSON file [env PINTRACE_DECIDER_FILE, default ./var/config/decider.json]');

  decider
    .command('get')
    .argument('<name>', 'decider name (case-insensitive)')
    .description('Print the value of NAME; exit 1 when it is unset')
    .action(async (name: string, _opts: unknown, cmd: Command) =>
      guarded(async () => {
        const value = (await readDeciderFile(fileOf(cmd))).get(name.toLowerCase());
        if (value === undefined) fail(`${name.toLowerCase()} is not set in ${fileOf(cmd)}`);
        process.stdout.write(`${value}\n`);
      }),
    );

  withFleetOptions(decider.command('set'))
    .argument('<name>', 'decider name (stored lower-case)')
    .argument('<value>', 'percent from 0 to 100, fractions allowed (e.g. 0.3)')
    .description('Set NAME to VALUE (atomic write of the whole file)')
    .action(async (name: string, raw: string, _opts: unknown, cmd: Command) =>
      guarded(async () => {
        const value = Number(raw);
        if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 100) {
          fail(`value must be a percent from 0 to 100 (fractions allowed, e.g. 0.3), got ${JSON.stringify(raw)}`, 2);
        }
        if (await publishIfFleet(cmd, name, value)) return;
        const path = fileOf(cmd);
        const before = (await readDeciderFile(path)).get(name.toLowerCase());
        await setDeciderValue(path, name, value);
        process.stdout.write(`${name.toLowerCase()}: ${before === undefined ? 'unset' : before} → ${value} (${path})\n`);
      }),
    );

  withFleetOptions(decider.command('unset'))
    .argument('<name>', 'decider name')
    .description('Remove NAME (lookups then fall back to the next less specific key or the default)')
    .action(async (name: string, _opts: unknown, cmd: Command) =>
      guarded(async () => {
        if (await publishIfFleet(cmd, name, undefined)) return;
        await setDeciderValue(fileOf(cmd), name, undefined);
        process.stdout.write(`${name.toLowerCase()}: unset (${fileOf(cmd)})\n`);
      }),
    );

  decider
    .command('list')
    .option('--json', 'print the file as JSON')
    .description('Print every name and value, sorted')
    .action(async (_opts: unknown, cmd: Command) =>
      guarded(async () => {
        const values = await readDeciderFile(fileOf(cmd));
        const sorted = [...values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        if (cmd.optsWithGlobals<DeciderFlags>().json) {
          process.stdout.write(`${JSON.stringify(Object.fromEntries(sorted), null, 2)}\n`);
          return;
        }
        for (const [name, value] of sorted) process.stdout.write(`${name} ${value}\n`);
      }),
    );
}
