import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, type OptionSpec } from './option-spec.js';
import { isForeignConnectionKey } from './shared-keys.js';

export { ConfigError };
export type { OptionSpec };

const hostPort = /^[A-Za-z0-9.\-_]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/;

export const brokersSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(
    z
      .array(
        z.string().refine((s) => hostPort.test(s) && Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, {
          message: 'expected host:port',
        }),
      )
      .min(1, 'expected at least one host:port'),
  );

export const httpUrlSchema = z
  .string()
  .trim()
  .url('expected an http(s) URL such as http://127.0.0.1:9200')
  .refine((s) => /^https?:\/\//.test(s), 'expected an http(s) URL')
  .transform((s) => s.replace(/\/+$/, ''));

/** Kafka's own topic name rule: legal characters and at most 249 of them. */
export const topicSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic is 1-249 of [A-Za-z0-9._-]');

export const dirSchema = z
  .string()
  .trim()
  .min(1, 'expected a directory path')
  .transform((s) => path.resolve(s));

export const portSchema = z.coerce
  .number({ invalid_type_error: 'expected a port number' })
  .int('expected a whole port number')
  .min(0, 'ports are 0-65535')
  .max(65535, 'ports are 0-65535');

export const positiveIntSchema = z.coerce.number().int('expected a whole number').positive('expected a number > 0');
export const nonNegativeIntSchema = z.coerce.number().int('expected a whole number').min(0, 'expected a number >= 0');

/**
 * Elasticsearch index prefix rules that zipkin-server enforces or ES requires: lower case, no
 * `:` `#` or other forbidden characters, not starting with `_ - +`, at most 231 bytes. The same
 * for the part that writes the indices and the part that reads them.
 */
const indexPrefixSchema = z
  .string()
  .trim()
  .min(1, 'expected a non-empty index prefix')
  .refine((s) => Buffer.byteLength(s, 'utf8') <= 231, 'an index prefix is at most 231 bytes')
  .refine((s) => s === s.toLowerCase(), 'Elasticsearch index names are lower case')
  .refine((s) => !/[\\/*?"<>| ,#:]/.test(s), 'an index prefix cannot contain \\ / * ? " < > | space , # :')
  .refine((s) => !/^[-_+]/.test(s), 'an index prefix cannot start with - _ or +');

/** The options every Pintrace process shares; defaults point at the devstack. */
export const commonOptions = {
  kafka: {
    key: 'kafka',
    flag: 'kafka',
    env: 'PINTRACE_KAFKA_BROKERS',
    description: 'Kafka bootstrap brokers, comma-separated host:port',
    default: '127.0.0.1:9092',
    schema: brokersSchema,
  },
  es: {
    key: 'es',
    flag: 'es',
    env: 'PINTRACE_ES_URL',
    description: 'Elasticsearch URL',
    default: 'http://127.0.0.1:9200',
    schema: httpUrlSchema,
  },
  topic: {
    key: 'topic',
    flag: 'topic',
    env: 'PINTRACE_TOPIC',
    description: 'Kafka topic that carries spans',
    default: 'zipkin',
    schema: topicSchema,
  },
  indexPrefix: {
    key: 'indexPrefix',
    flag: 'index-prefix',
    env: 'PINTRACE_ES_INDEX_PREFIX',
    description: "Elasticsearch index prefix, as zipkin-server's ES_INDEX",
    default: 'zipkin',
    schema: indexPrefixSchema,
  },
  spansDir: {
    key: 'spansDir',
    flag: 'spans-dir',
    env: 'PINTRACE_SPANS_DIR',
    description: 'Directory of span log files (<service>@<pid>-<id>.jsonl per process, or <service>.jsonl)',
    default: './var/spans',
    schema: dirSchema,
  },
} satisfies Record<string, OptionSpec>;

export type OptionSet = Record<string, OptionSpec>;

export type ConfigOf<O extends OptionSet> = { [K in keyof O]: O[K] extends OptionSpec<infer T> ? T : never };

export interface ConfigSources {
  /** Values given as flags, keyed by OptionSpec.key (commander's camelCase keys match). */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** A JSON config file; its top-level keys are OptionSpec.key. */
  file?: string;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`--config ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError([`--config ${file}: expected a JSON object (${(err as Error).message})`]);
  }
}

/**
 * Resolves every option from flags, env, file and defaults, and validates all of them,
 * reporting one line per bad value naming the flag and env var to change.
 */
export function resolveConfig<O extends OptionSet>(options: O, sources: ConfigSources = {}): ConfigOf<O> {
  const env = sources.env ?? process.env;
  const fromFile = sources.file ? readConfigFile(sources.file) : {};
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  const known = new Set(Object.values(options).map((o) => o.key));
  for (const key of Object.keys(fromFile)) {
    if (!known.has(key) && !isForeignConnectionKey(key, known)) problems.push(`${sources.file}: unknown key "${key}" (known: ${[...known].join(', ')})`);
  }
  for (const spec of Object.values(options)) {
    const flagValue = sources.flags?.[spec.key];
    let origin: string;
    let raw: unknown;
    if (flagValue !== undefined) {
      raw = flagValue;
      origin = `--${spec.flag}`;
    } else if (env[spec.env] !== undefined && env[spec.env] !== '') {
      raw = env[spec.env];
      origin = spec.env;
    } else if (fromFile[spec.key] !== undefined) {
      raw = fromFile[spec.key];
      origin = `${sources.file}: ${spec.key}`;
    } else {
      raw = spec.default;
      origin = `default of --${spec.flag}`;
    }
    if (raw === undefined) {
      out[spec.key] = undefined;
      continue;
    }
    const result = spec.schema.safeParse(raw);
    if (result.success) out[spec.key] = result.data;
    else {
      const msg = result.error.issues.map((i) => i.message).join('; ');
      const shown = spec.secret ? '(the secret given)' : JSON.stringify(raw);
      problems.push(`${origin} (--${spec.flag} / ${spec.env}): ${shown} is not valid: ${msg}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out as ConfigOf<O>;
}
