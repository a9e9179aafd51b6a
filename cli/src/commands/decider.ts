import type { Command } from 'commander';
import { DeciderFormatError, deciderFilePath, readDeciderFile, setDeciderValue } from '@pintrace/sampler';

/** Options every `pintrace decider` subcommand takes. */
interface DeciderFlags {
  deciderFile?: string;
  json?: boolean;
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

  decider
    .command('set')
    .argument('<name>', 'decider name (stored lower-case)')
    .argument('<value>', 'percent from 0 to 100, fractions allowed (e.g. 0.3)')
    .description('Set NAME to VALUE (atomic write of the whole file)')
    .action(async (name: string, raw: string, _opts: unknown, cmd: Command) =>
      guarded(async () => {
        const value = Number(raw);
        if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 100) {
          fail(`value must be a percent from 0 to 100 (fractions allowed, e.g. 0.3), got ${JSON.stringify(raw)}`, 2);
        }
        const path = fileOf(cmd);
        const before = (await readDeciderFile(path)).get(name.toLowerCase());
        await setDeciderValue(path, name, value);
        process.stdout.write(`${name.toLowerCase()}: ${before === undefined ? 'unset' : before} → ${value} (${path})\n`);
      }),
    );

  decider
    .command('unset')
    .argument('<name>', 'decider name')
    .description('Remove NAME (lookups then fall back to the next less specific key or the default)')
    .action(async (name: string, _opts: unknown, cmd: Command) =>
      guarded(async () => {
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
