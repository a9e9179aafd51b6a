import type { z } from 'zod';
import { PintraceError } from './errors.js';

/**
 * One configurable value: where it comes from (flag, env, file key) and how it is checked.
 * Precedence is flag > env > config file > default, the same for every process.
 */
export interface OptionSpec<T = unknown> {
  /** Key in the parsed config object and in the JSON config file. */
  key: string;
  /** Long flag without dashes, e.g. `kafka` for `--kafka`. */
  flag: string;
  /** Environment variable, e.g. `PINTRACE_KAFKA_BROKERS`. */
  env: string;
  description: string;
  /** Default as the string a user would type, so help texts show it. */
  default?: string;
  /**
   * A secret (password, API key): its value never appears in an error message, a log line or
   * `--help`. Prefer giving secrets through a file option.
   */
  secret?: boolean;
  /** Turns the raw string (or file value) into the typed value; throws on bad input. */
  schema: z.ZodType<T, z.ZodTypeDef, unknown>;
}

/** Every problem of a configuration at once, each naming the flag or variable to change. */
export class ConfigError extends PintraceError<'PINTRACE_CONFIG'> {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super('PINTRACE_CONFIG', `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}
