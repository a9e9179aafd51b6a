import { Option, type Command } from 'commander';
import { booleanSchema, ConfigError, resolveConfig, type OptionSet, type ConfigOf } from '@pintrace/runtime';

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

/** Resolves and validates; on bad values prints one line per problem and exits 2. */
export function configFrom<O extends OptionSet>(options: O, cmd: Command): ConfigOf<O> {
  const flags = cmd.opts<Record<string, unknown>>();
  try {
    return resolveConfig(options, { flags, env: process.env, file: (flags.config as string | undefined) ?? process.env.PINTRACE_CONFIG });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`pintrace ${cmd.name()}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
