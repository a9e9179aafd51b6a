/**
 * How a process connects to Kafka and to the span store (Elasticsearch or OpenSearch): the options
 * every part shares, named once, and the values they resolve to. The CLI resolves them; kafka/ and
 * storage/ receive the values and never read the environment.
 *
 * Secrets (`--kafka-sasl-password`, `--es-password`, `--es-api-key`, their `-file` forms' contents,
 * credentials inside URLs) are values like any other, but they never reach a log line, a metric, an
 * error message or `--help`: option specs mark them `secret`, and URLs are logged through
 * {@link redactUrl}.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ConfigOf } from './config.js';
import { ConfigError, type OptionSpec } from './option-spec.js';
import { booleanSchema } from './boolean.js';

export const KAFKA_SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type KafkaSecurityProtocol = (typeof KAFKA_SECURITY_PROTOCOLS)[number];
export const KAFKA_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** SASL credentials; `password` is the secret itself (a password file has already been read). */
export interface KafkaSasl {
  mechanism: KafkaSaslMechanism;
  /** PLAIN/SCRAM user; with OAUTHBEARER the OAuth client id. */
  username: string;
  /** PLAIN/SCRAM password; with OAUTHBEARER the OAuth client secret. Never log it. */
  password: string;
  /** OAUTHBEARER only: the token endpoint that grants client-credentials tokens. */
  oauthbearerTokenEndpointUrl?: string;
}

/** TLS to the brokers. Files are paths; the client reads them. */
export interface KafkaTls {
  /** PEM file of the CA(s) that signed the brokers' certificates; default the system's CAs. */
  caFile?: string;
  /** PEM client certificate for mutual TLS (with keyFile). */
  certFile?: string;
  /** PEM private key of certFile. */
  keyFile?: string;
  /** Check that the broker's certificate names the host dialled; default true. */
  verifyHostname: boolean;
}

export interface KafkaSecurity {
  protocol: KafkaSecurityProtocol;
  /** Present exactly when protocol is SASL_PLAINTEXT or SASL_SSL. */
  sasl?: KafkaSasl;
  /** Present exactly when protocol is SSL or SASL_SSL. */
  tls?: KafkaTls;
}

/** Client libraries behind @pintrace/kafka's interface, by the name `--kafka-client` takes. */
export const KAFKA_CLIENTS = ['librdkafka', 'kafkajs'] as const;
export type KafkaClientChoice = (typeof KAFKA_CLIENTS)[number];

/** Everything a Kafka client of any part needs to reach the cluster. */
export interface KafkaConnection {
  brokers: string[];
  /** The client library; undefined = the project's default (docs/decisions.md). */
  client?: KafkaClientChoice;
  security: KafkaSecurity;
}

/** Everything a store client (collector, ui-proxy) needs to reach Elasticsearch or OpenSearch. */
export interface StoreConnection {
  /** Base URL (what `--es` takes: one URL); may carry `user:password@`, used instead of username/password. */
  url: string;
  username?: string;
  /** Never log it. */
  password?: string;
  /** An Elasticsearch API key, the base64 `id:key` form Elastic hands out (header `Authorization: ApiKey …`). Never log it. */
  apiKey?: string;
  /** PEM CA file for https; default the system's CAs. */
  caFile?: string;
  /** PEM client certificate and key for mutual TLS. */
  certFile?: string;
  keyFile?: string;
}

export const PLAINTEXT: KafkaSecurity = { protocol: 'PLAINTEXT' };

const optionalText = z.string().trim().min(1, 'expected a value').optional();
const optionalPath = z.string().trim().min(1, 'expected a file path').optional();

function spec<T>(
  key: string,
  flag: string,
  env: string,
  description: string,
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  extra: Partial<OptionSpec<T>> = {},
): OptionSpec<T> {
  return { key, flag, env, description, schema, ...extra };
}

/** Kafka connection options shared by every part that talks to Kafka. */
export const kafkaConnectionOptions = {
  kafkaClient: spec(
    'kafkaClient',
    'kafka-client',
    'PINTRACE_KAFKA_CLIENT',
    `Kafka client library (${KAFKA_CLIENTS.join(', ')}); default the project's choice`,
    z.enum(KAFKA_CLIENTS, { errorMap: () => ({ message: `expected one of ${KAFKA_CLIENTS.join(', ')}` }) }).optional(),
  ),
  kafkaSecurityProtocol: spec(
    'kafkaSecurityProtocol',
    'kafka-security-protocol',
    'PINTRACE_KAFKA_SECURITY_PROTOCOL',
    `Kafka security protocol (${KAFKA_SECURITY_PROTOCOLS.join(', ')})`,
    z
      .string()
      .trim()
      .toUpperCase()
      .pipe(z.enum(KAFKA_SECURITY_PROTOCOLS, { errorMap: () => ({ message: `expected one of ${KAFKA_SECURITY_PROTOCOLS.join(', ')}` }) })),
    { default: 'PLAINTEXT' },
  ),
  kafkaSaslMechanism: spec(
    'kafkaSaslMechanism',
    'kafka-sasl-mechanism',
    'PINTRACE_KAFKA_SASL_MECHANISM',
    `SASL mechanism with SASL_* protocols (${KAFKA_SASL_MECHANISMS.join(', ')})`,
    z
      .string()
      .trim()
      .toUpperCase()
      .pipe(z.enum(KAFKA_SASL_MECHANISMS, { errorMap: () => ({ message: `expected one of ${KAFKA_SASL_MECHANISMS.join(', ')}` }) }))
      .optional(),
  ),
  kafkaSaslUsername: spec(
    'kafkaSaslUsername',
    'kafka-sasl-username',
    'PINTRACE_KAFKA_SASL_USERNAME',
    'SASL user name (OAUTHBEARER: the OAuth client id)',
    optionalText,
  ),
  kafkaSaslPassword: spec(
    'kafkaSaslPassword',
    'kafka-sasl-password',
    'PINTRACE_KAFKA_SASL_PASSWORD',
    'SASL password (OAUTHBEARER: the client secret); prefer --kafka-sasl-password-file',
    optionalText,
    { secret: true },
  ),
  kafkaSaslPasswordFile: spec(
    'kafkaSaslPasswordFile',
    'kafka-sasl-password-file',
    'PINTRACE_KAFKA_SASL_PASSWORD_FILE',
    'File holding the SASL password (one line)',
    optionalPath,
  ),
  kafkaSaslOauthbearerTokenEndpointUrl: spec(
    'kafkaSaslOauthbearerTokenEndpointUrl',
    'kafka-sasl-oauthbearer-token-endpoint-url',
    'PINTRACE_KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL',
    'OAUTHBEARER: OAuth token endpoint (client-credentials grant)',
    z.string().trim().url('expected an https URL').optional(),
  ),
  kafkaCaFile: spec(
    'kafkaCaFile',
    'kafka-ca-file',
    'PINTRACE_KAFKA_CA_FILE',
    "PEM file of the CA that signed the brokers' certificates (SSL, SASL_SSL); default the system CAs",
    optionalPath,
  ),
  kafkaCertFile: spec('kafkaCertFile', 'kafka-cert-file', 'PINTRACE_KAFKA_CERT_FILE', 'PEM client certificate for mutual TLS', optionalPath),
  kafkaKeyFile: spec('kafkaKeyFile', 'kafka-key-file', 'PINTRACE_KAFKA_KEY_FILE', 'PEM private key of --kafka-cert-file', optionalPath),
  kafkaVerifyHostname: spec(
    'kafkaVerifyHostname',
    'kafka-verify-hostname',
    'PINTRACE_KAFKA_VERIFY_HOSTNAME',
    "Check that each broker's certificate names the host dialled",
    booleanSchema,
    { default: 'true' },
  ),
} satisfies Record<string, OptionSpec>;

/** Store connection options shared by the collector and the ui-proxy (the URL itself is `--es`). */
export const storeConnectionOptions = {
  esUsername: spec('esUsername', 'es-username', 'PINTRACE_ES_USERNAME', 'Elasticsearch/OpenSearch basic-auth user', optionalText),
  esPassword: spec(
    'esPassword',
    'es-password',
    'PINTRACE_ES_PASSWORD',
    'Elasticsearch/OpenSearch basic-auth password; prefer --es-password-file',
    optionalText,
    { secret: true },
  ),
  esPasswordFile: spec('esPasswordFile', 'es-password-file', 'PINTRACE_ES_PASSWORD_FILE', 'File holding the basic-auth password (one line)', optionalPath),
  esApiKey: spec(
    'esApiKey',
    'es-api-key',
    'PINTRACE_ES_API_KEY',
    'Elasticsearch API key (base64 id:key, as Elastic Cloud shows it); prefer --es-api-key-file',
    optionalText,
    { secret: true },
  ),
  esApiKeyFile: spec('esApiKeyFile', 'es-api-key-file', 'PINTRACE_ES_API_KEY_FILE', 'File holding the API key (one line)', optionalPath),
  esCaFile: spec('esCaFile', 'es-ca-file', 'PINTRACE_ES_CA_FILE', 'PEM CA file for an https store; default the system CAs', optionalPath),
  esCertFile: spec('esCertFile', 'es-cert-file', 'PINTRACE_ES_CERT_FILE', 'PEM client certificate for mutual TLS to the store', optionalPath),
  esKeyFile: spec('esKeyFile', 'es-key-file', 'PINTRACE_ES_KEY_FILE', 'PEM private key of --es-cert-file', optionalPath),
} satisfies Record<string, OptionSpec>;

type KafkaConnectionConfig = { kafka: string[] } & ConfigOf<typeof kafkaConnectionOptions>;
type StoreConnectionConfig = { es: string } & ConfigOf<typeof storeConnectionOptions>;

/** Reads a secret from its file: one value, trailing newline dropped. Problems name the flag, never the content. */
function readSecretFile(file: string, flag: string, env: string, problems: string[]): string | undefined {
  try {
    const value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    if (value === '') problems.push(`--${flag} / ${env}: ${file} is empty`);
    return value;
  } catch (err) {
    problems.push(`--${flag} / ${env}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

function checkReadable(file: string | undefined, flag: string, env: string, problems: string[]): void {
  if (file === undefined) return;
  try {
    // Only whether it can be read: the client reads it once when it connects.
    accessSync(file, constants.R_OK);
  } catch (err) {
    problems.push(`--${flag} / ${env}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function secretOf(
  value: string | undefined,
  file: string | undefined,
  names: { flag: string; env: string; fileFlag: string; fileEnv: string },
  problems: string[],
): string | undefined {
  if (value !== undefined && file !== undefined) {
    problems.push(`--${names.flag} / ${names.env} and --${names.fileFlag} / ${names.fileEnv} are both set: give one`);
    return undefined;
  }
  return file !== undefined ? readSecretFile(file, names.fileFlag, names.fileEnv, problems) : value;
}

/**
 * The Kafka connection of a resolved config: checks that the settings fit together (SASL needs a
 * mechanism, user and password; TLS files exist; a key goes with a certificate) and reads the
 * password file. Throws ConfigError naming the flags to change.
 */
export function kafkaConnectionOf(config: KafkaConnectionConfig): KafkaConnection {
  const problems: string[] = [];
  const protocol = config.kafkaSecurityProtocol;
  const usesSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const security: KafkaSecurity = { protocol };
  const password = secretOf(
    config.kafkaSaslPassword,
    config.kafkaSaslPasswordFile,
    {
      flag: 'kafka-sasl-password',
      env: 'PINTRACE_KAFKA_SASL_PASSWORD',
      fileFlag: 'kafka-sasl-password-file',
      fileEnv: 'PINTRACE_KAFKA_SASL_PASSWORD_FILE',
    },
    problems,
  );
  if (usesSasl) {
    const mechanism = config.kafkaSaslMechanism;
    if (mechanism === undefined)
      problems.push(`--kafka-sasl-mechanism / PINTRACE_KAFKA_SASL_MECHANISM is required with ${protocol} (${KAFKA_SASL_MECHANISMS.join(', ')})`);
    if (config.kafkaSaslUsername === undefined) problems.push(`--kafka-sasl-username / PINTRACE_KAFKA_SASL_USERNAME is required with ${protocol}`);
    if (config.kafkaSaslPassword === undefined && config.kafkaSaslPasswordFile === undefined) {
      problems.push(`--kafka-sasl-password-file / PINTRACE_KAFKA_SASL_PASSWORD_FILE (or --kafka-sasl-password) is required with ${protocol}`);
    }
    if (mechanism === 'OAUTHBEARER' && config.kafkaSaslOauthbearerTokenEndpointUrl === undefined) {
      problems.push('--kafka-sasl-oauthbearer-token-endpoint-url / PINTRACE_KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL is required with OAUTHBEARER');
    }
    if (mechanism !== undefined && config.kafkaSaslUsername !== undefined && password !== undefined) {
      security.sasl = {
        mechanism,
        username: config.kafkaSaslUsername,
        password,
        ...(config.kafkaSaslOauthbearerTokenEndpointUrl !== undefined ? { oauthbearerTokenEndpointUrl: config.kafkaSaslOauthbearerTokenEndpointUrl } : {}),
      };
    }
  } else if (config.kafkaSaslMechanism !== undefined || config.kafkaSaslUsername !== undefined || password !== undefined) {
    problems.push(`--kafka-sasl-* settings need --kafka-security-protocol SASL_SSL or SASL_PLAINTEXT (it is ${protocol}); refusing to ignore them`);
  }
  checkReadable(config.kafkaCaFile, 'kafka-ca-file', 'PINTRACE_KAFKA_CA_FILE', problems);
  checkReadable(config.kafkaCertFile, 'kafka-cert-file', 'PINTRACE_KAFKA_CERT_FILE', problems);
  checkReadable(config.kafkaKeyFile, 'kafka-key-file', 'PINTRACE_KAFKA_KEY_FILE', problems);
  if ((config.kafkaCertFile === undefined) !== (config.kafkaKeyFile === undefined)) {
    problems.push('--kafka-cert-file and --kafka-key-file go together (mutual TLS): give both or neither');
  }
  if (usesTls) {
    security.tls = {
      ...(config.kafkaCaFile !== undefined ? { caFile: config.kafkaCaFile } : {}),
      ...(config.kafkaCertFile !== undefined ? { certFile: config.kafkaCertFile } : {}),
      ...(config.kafkaKeyFile !== undefined ? { keyFile: config.kafkaKeyFile } : {}),
      verifyHostname: config.kafkaVerifyHostname,
    };
  } else if (config.kafkaCaFile !== undefined || config.kafkaCertFile !== undefined || config.kafkaKeyFile !== undefined) {
    problems.push(
      `--kafka-ca-file / --kafka-cert-file / --kafka-key-file need --kafka-security-protocol SSL or SASL_SSL (it is ${protocol}); refusing to ignore them`,
    );
  }
  if (problems.length) throw new ConfigError(problems);
  return { brokers: config.kafka, ...(config.kafkaClient !== undefined ? { client: config.kafkaClient } : {}), security };
}

/**
 * The store connection of a resolved config: one way to authenticate (URL credentials, basic
 * auth or an API key), files readable, secrets read from their files. Throws ConfigError.
 */
export function storeConnectionOf(config: StoreConnectionConfig): StoreConnection {
  const problems: string[] = [];
  const password = secretOf(
    config.esPassword,
    config.esPasswordFile,
    {
      flag: 'es-password',
      env: 'PINTRACE_ES_PASSWORD',
      fileFlag: 'es-password-file',
      fileEnv: 'PINTRACE_ES_PASSWORD_FILE',
    },
    problems,
  );
  const apiKey = secretOf(
    config.esApiKey,
    config.esApiKeyFile,
    {
      flag: 'es-api-key',
      env: 'PINTRACE_ES_API_KEY',
      fileFlag: 'es-api-key-file',
      fileEnv: 'PINTRACE_ES_API_KEY_FILE',
    },
    problems,
  );
  const urlHasCredentials = config.es.split(',').some((u) => urlCredentials(u.trim()));
  if (apiKey !== undefined && (config.esUsername !== undefined || password !== undefined || urlHasCredentials)) {
    problems.push('--es-api-key and basic auth (--es-username/--es-password or user:password@ in --es) are both set: give one');
  }
  const passwordGiven = password !== undefined || config.esPasswordFile !== undefined;
  if ((config.esUsername === undefined) === passwordGiven) {
    problems.push('--es-username and --es-password (or --es-password-file) go together: give both or neither');
  }
  if (urlHasCredentials && config.esUsername !== undefined) {
    problems.push('--es carries user:password@ and --es-username is set too: give one');
  }
  checkReadable(config.esCaFile, 'es-ca-file', 'PINTRACE_ES_CA_FILE', problems);
  checkReadable(config.esCertFile, 'es-cert-file', 'PINTRACE_ES_CERT_FILE', problems);
  checkReadable(config.esKeyFile, 'es-key-file', 'PINTRACE_ES_KEY_FILE', problems);
  if ((config.esCertFile === undefined) !== (config.esKeyFile === undefined)) {
    problems.push('--es-cert-file and --es-key-file go together (mutual TLS): give both or neither');
  }
  const tlsFiles = config.esCaFile !== undefined || config.esCertFile !== undefined;
  if (tlsFiles && !config.es.split(',').every((u) => u.trim().startsWith('https://'))) {
    problems.push('--es-ca-file / --es-cert-file need an https:// URL in --es; refusing to ignore them');
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    url: config.es,
    ...(config.esUsername !== undefined ? { username: config.esUsername } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(config.esCaFile !== undefined ? { caFile: config.esCaFile } : {}),
    ...(config.esCertFile !== undefined ? { certFile: config.esCertFile } : {}),
    ...(config.esKeyFile !== undefined ? { keyFile: config.esKeyFile } : {}),
  };
}

function urlCredentials(u: string): boolean {
  try {
    const parsed = new URL(u);
    return parsed.username !== '' || parsed.password !== '';
  } catch {
    return false;
  }
}

/**
 * A URL (or comma-separated URLs) fit for a log line: any `user:password@` becomes `***@`.
 * Text that is not a URL is scrubbed of anything that looks like `//user:pass@`.
 */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((u) => u.replace(/^(\s*[A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s]*@/, '$1***@'))
    .join(',');
}
