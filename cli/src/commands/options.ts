import { Option, type Command } from 'commander';
import { booleanSchema, ConfigError, kafkaConnectionOf, resolveConfig, storeConnectionOf, type OptionSet, type ConfigOf } from '@pintrace/runtime';

/**
 * Adds each option as a flag (with its env var and default in the help) plus --config FILE.
 * Defaults are not given to commander: resolveConfig applies them after flags, env and file.
 */
export function addOptions(cmd: Command, options: OptionSet): Command {
  for (const spec of Object.values(options)) {
    // A boolean's value is optional: `--secure` alone means true, `--secure false` still works.
    const value = spec.schema === booleanSchema ? '[value]' : '<value>';
    const flag = new Option(`--${spec.flag} ${value}`, `${spec.description} [env ${spec.env}${spec.default !== undefined ? `, default ${spec.default}` : ''}]`);
    cmd.addOption(flag);
  }
  if (!cmd.options.some((o) => o.long === '--config')) {
    cmd.option('--config <file>', 'JSON config file; its keys are the option names in camelCase [env PINTRACE_CONFIG]');
  }
  return cmd;
}

/**
 * Resolves and validates, including whether the connection settings fit together (SASL needs a
 * user, TLS files exist…), so a part fails at start, not at its first connection; on bad values
 * prints one line per problem and exits 2.
 */
export function configFrom<O extends OptionSet>(options: O, cmd: Command): ConfigOf<O> {
  const flags = cmd.opts<Record<string, unknown>>();
  try {
    const config = resolveConfig(options, { flags, env: process.env, file: (flags.config as string | undefined) ?? process.env.PINTRACE_CONFIG });
    const values = config as Record<string, unknown>;
    if ('kafkaSecurityProtocol' in options) kafkaConnectionOf(values as Parameters<typeof kafkaConnectionOf>[0]);
    if ('esUsername' in options) storeConnectionOf(values as Parameters<typeof storeConnectionOf>[0]);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${commandPath(cmd)}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** "pintrace decider set", not just "set": the words the user typed. */
function commandPath(cmd: Command): string {
  const words: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}
