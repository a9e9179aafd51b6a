/**
 * What the librdkafka producer, consumer and admin share: loading the binding
 * (@confluentinc/kafka-javascript, an optional dependency built at install), the mapping of our
 * security settings to librdkafka's configuration, librdkafka's error names mapped to our codes,
 * and the logger the binding's KafkaJS-compatible layer writes to.
 *
 * librdkafka configuration reference: CONFIGURATION.md of librdkafka 2.15 (`security.protocol`,
 * `sasl.mechanisms`, `ssl.ca.location`, `ssl.endpoint.identification.algorithm`, ...).
 */
import { createRequire } from 'node:module';
import type { KafkaSecurity, Logger } from '@pintrace/runtime';
import { authenticationError, configError, KafkaClientError, type KafkaErrorCode } from './errors.js';
import { expectedRetry } from './log.js';
import { checkSecurity } from './options.js';

/** The part of the binding's error we use (LibrdKafkaError, and the KafkaJS layer's errors, which carry the same numeric code). */
export interface RdError {
  message: string;
  code: number;
  isFatal?: boolean;
  isRetriable?: boolean;
  fatal?: boolean;
  retriable?: boolean;
}

/** The binding's module, as far as we use it (its low-level Producer and its KafkaJS-compatible API). */
export interface RdModule {
  Producer: new (conf: Record<string, unknown>, topicConf?: Record<string, unknown>) => unknown;
  KafkaJS: { Kafka: new (config: Record<string, unknown>) => unknown };
  features: string[];
  librdkafkaVersion: string;
  CODES: { ERRORS: Record<string, number> };
}

let loaded: { module?: RdModule; error?: unknown } | undefined;

export function loadLibrdkafka(): { module?: RdModule; error?: unknown } {
  if (loaded) return loaded;
  try {
    loaded = { module: createRequire(import.meta.url)('@confluentinc/kafka-javascript') as RdModule };
  } catch (error) {
    loaded = { error };
  }
  return loaded;
}

/** True when the native binding is installed and loads on this machine. */
export function librdkafkaAvailable(): boolean {
  return loadLibrdkafka().module !== undefined;
}

/** Why the binding is not available (for the warning of a fallback), or undefined. */
export function librdkafkaLoadError(): string | undefined {
  const { error } = loadLibrdkafka();
  return error === undefined ? undefined : error instanceof Error ? error.message.split('\n')[0] : String(error);
}

/** The binding, or KAFKA_CONFIG saying how to get it. */
export function requireLibrdkafka(): RdModule {
  const { module, error } = loadLibrdkafka();
  if (!module) {
    throw configError(
      `client "librdkafka" is not installed or does not load (${librdkafkaLoadError() ?? String(error)}); run scripts/setup.mjs, or set --kafka-client kafkajs`,
    );
  }
  return module;
}

/**
 * librdkafka properties for `security`, after the checks both clients share (`checkSecurity`).
 * Each setting is honoured or refused (KAFKA_CONFIG naming the flag to change): this build must
 * have the feature (`features` of the binding), and OAUTHBEARER needs librdkafka's own OIDC
 * client-credentials flow, which exists only when it was built with libcurl (feature "oidc"; our
 * source build links the system OpenSSL and zlib, not curl). Hostname verification is on unless
 * `verifyHostname` is false (librdkafka's default is on too since 2.0, but we say it rather than
 * rely on it).
 */
export function librdkafkaSecurityConfig(security: KafkaSecurity | undefined, features: readonly string[]): Record<string, string | boolean> {
  const conf: Record<string, string | boolean> = {};
  const checked = checkSecurity(security);
  if (checked === undefined) return conf;
  conf['security.protocol'] = checked.protocol.toLowerCase();
  if (checked.tls !== undefined) {
    if (!features.includes('ssl'))
      throw configError(
        `--kafka-security-protocol ${checked.protocol} needs librdkafka built with OpenSSL (feature "ssl"); this build has ${features.join(', ')}: rebuild it (scripts/setup.mjs) or set --kafka-client kafkajs`,
      );
    const tls = checked.tls;
    conf['enable.ssl.certificate.verification'] = true;
    conf['ssl.endpoint.identification.algorithm'] = tls.verifyHostname === false ? 'none' : 'https';
    if (tls.caFile !== undefined) conf['ssl.ca.location'] = tls.caFile;
    if (tls.certFile !== undefined) conf['ssl.certificate.location'] = tls.certFile;
    if (tls.keyFile !== undefined) conf['ssl.key.location'] = tls.keyFile;
  }
  if (checked.sasl !== undefined) {
    const sasl = checked.sasl;
    conf['sasl.mechanisms'] = sasl.mechanism;
    switch (sasl.mechanism) {
      case 'PLAIN':
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512': {
        const feature = sasl.mechanism === 'PLAIN' ? 'sasl_plain' : 'sasl_scram';
        if (!features.includes(feature))
          throw configError(
            `--kafka-sasl-mechanism ${sasl.mechanism} needs librdkafka feature "${feature}", missing from this build (${features.join(', ')}): rebuild it or set --kafka-client kafkajs`,
          );
        conf['sasl.username'] = sasl.username;
        conf['sasl.password'] = sasl.password;
        break;
      }
      case 'OAUTHBEARER': {
        if (!features.includes('oidc')) {
          throw configError(
            `--kafka-sasl-mechanism OAUTHBEARER needs librdkafka built with libcurl (feature "oidc"), missing from this build (${features.join(', ')}): rebuild it with libcurl (libcurl4-openssl-dev) or use SCRAM-SHA-512 / SCRAM-SHA-256 / PLAIN`,
          );
        }
        if (sasl.oauthbearerTokenEndpointUrl === undefined) throw configError('--kafka-sasl-oauthbearer-token-endpoint-url is required with OAUTHBEARER');
        conf['sasl.oauthbearer.method'] = 'oidc';
        conf['sasl.oauthbearer.client.id'] = sasl.username;
        conf['sasl.oauthbearer.client.secret'] = sasl.password;
        conf['sasl.oauthbearer.token.endpoint.url'] = sasl.oauthbearerTokenEndpointUrl;
        break;
      }
      default:
        throw configError(
          `--kafka-sasl-mechanism "${String((sasl as { mechanism: unknown }).mechanism)}" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER`,
        );
    }
  }
  return conf;
}

/** librdkafka error names (CODES.ERRORS keys) mapped to our codes; the rest is KAFKA_PROTOCOL. */
const codeByName: Record<string, KafkaErrorCode> = {
  ERR__TRANSPORT: 'KAFKA_CONNECTION',
  ERR__ALL_BROKERS_DOWN: 'KAFKA_CONNECTION',
  ERR__RESOLVE: 'KAFKA_CONNECTION',
  ERR__AUTHENTICATION: 'KAFKA_AUTHENTICATION',
  ERR__SSL: 'KAFKA_AUTHENTICATION',
  ERR_SASL_AUTHENTICATION_FAILED: 'KAFKA_AUTHENTICATION',
  ERR_UNSUPPORTED_SASL_MECHANISM: 'KAFKA_AUTHENTICATION',
  ERR_ILLEGAL_SASL_STATE: 'KAFKA_AUTHENTICATION',
  ERR__MSG_TIMED_OUT: 'KAFKA_TIMEOUT',
  ERR__TIMED_OUT: 'KAFKA_TIMEOUT',
  ERR_REQUEST_TIMED_OUT: 'KAFKA_TIMEOUT',
  ERR__TIMED_OUT_QUEUE: 'KAFKA_TIMEOUT',
  ERR__UNKNOWN_TOPIC: 'KAFKA_UNKNOWN_TOPIC',
  ERR_UNKNOWN_TOPIC_OR_PART: 'KAFKA_UNKNOWN_TOPIC',
  ERR__UNKNOWN_PARTITION: 'KAFKA_UNKNOWN_TOPIC',
  ERR_MSG_SIZE_TOO_LARGE: 'KAFKA_MESSAGE_TOO_LARGE',
  ERR_RECORD_LIST_TOO_LARGE: 'KAFKA_MESSAGE_TOO_LARGE',
  ERR_REBALANCE_IN_PROGRESS: 'KAFKA_REBALANCE',
  ERR_ILLEGAL_GENERATION: 'KAFKA_REBALANCE',
  ERR_UNKNOWN_MEMBER_ID: 'KAFKA_REBALANCE',
  ERR_FENCED_INSTANCE_ID: 'KAFKA_REBALANCE',
  ERR_STALE_MEMBER_EPOCH: 'KAFKA_REBALANCE',
  ERR__ASSIGNMENT_LOST: 'KAFKA_REBALANCE',
};
/** Broker errors a retry can fix although librdkafka gave up on them (leader moves, queue full). */
const retryableNames = new Set([
  'ERR__QUEUE_FULL',
  'ERR_NOT_LEADER_FOR_PARTITION',
  'ERR_LEADER_NOT_AVAILABLE',
  'ERR_NOT_ENOUGH_REPLICAS',
  'ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'ERR_COORDINATOR_LOAD_IN_PROGRESS',
  'ERR_COORDINATOR_NOT_AVAILABLE',
  'ERR_NOT_COORDINATOR',
]);

/** librdkafka's error name for a numeric code (ERR__TRANSPORT, ERR_UNKNOWN_TOPIC_OR_PART, ...). */
export function rdErrorName(rd: RdModule, code: number): string {
  for (const [name, c] of Object.entries(rd.CODES.ERRORS)) if (c === code) return name;
  return String(code);
}

/**
 * A librdkafka error (from the low-level API or the KafkaJS-compatible layer) as a KafkaClientError.
 * `fatalCode` is the code for a fatal error (the producer's idempotent session is gone:
 * KAFKA_PRODUCER_RESET); by default a fatal error is not retryable.
 */
export function rdError(rd: RdModule, err: unknown, context: string, fatalCode?: KafkaErrorCode): KafkaClientError {
  if (err instanceof KafkaClientError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err), code: -1 }) as Partial<RdError>;
  const numeric = typeof e.code === 'number' ? e.code : undefined;
  const name = numeric === undefined ? 'ERR_UNKNOWN' : rdErrorName(rd, numeric);
  const fatal = e.isFatal === true || e.fatal === true;
  const message = typeof e.message === 'string' ? e.message : String(err);
  let code: KafkaErrorCode = codeByName[name] ?? (authFailure(message) ? 'KAFKA_AUTHENTICATION' : 'KAFKA_PROTOCOL');
  if (fatal && fatalCode !== undefined) code = fatalCode;
  const retryable =
    code === 'KAFKA_MESSAGE_TOO_LARGE' || code === 'KAFKA_AUTHENTICATION' || (fatal && fatalCode === undefined)
      ? false
      : code !== 'KAFKA_PROTOCOL' || e.isRetriable === true || e.retriable === true || retryableNames.has(name);
  if (code === 'KAFKA_AUTHENTICATION') return authenticationError(`${context}: ${message} (${name})`, err);
  return new KafkaClientError(code, `${context}: ${message} (${name})`, { retryable, cause: err });
}

/**
 * librdkafka's texts for a broker that refused us or a TLS handshake that failed (its error
 * callback carries ERR__AUTHENTICATION / ERR__SSL, but the KafkaJS-compatible layer hands us the
 * text only). librdkafka retries these forever; we fail fast on them instead.
 */
export function authFailure(message: string): boolean {
  return /SASL authentication error|Authentication failed|SSL handshake failed|certificate verify failed|SSL routines|Disconnected while requesting ApiVersion: might be caused by incorrect security\.protocol|broker certificate could not be verified|wrong version number/i.test(
    message,
  );
}

/** How long a refused login or certificate still explains a later timeout of the same client. */
const AUTH_MEMORY_MS = 60_000;

/**
 * Watches a client's error events and log lines for a broker refusing it. During a connect
 * attempt (begin() … end()) the first refusal rejects the attempt, so connect() fails in a second
 * or two instead of at its timeout. Outside an attempt a refusal is only remembered for a minute,
 * to explain a send or request that then times out. Each attempt starts afresh: a refusal seen
 * before it (a broker restarting, a password since rotated) does not fail it.
 */
export class AuthWatch {
  #reject: ((e: KafkaClientError) => void) | undefined;
  #refused: { message: string; at: number } | undefined;
  #versionQueryCloses = 0;

  /** Starts a connect attempt: the promise rejects on the first refusal seen from now on (never resolves). */
  begin(): Promise<never> {
    this.#versionQueryCloses = 0;
    return new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
  }

  /** The attempt is over (connected or failed otherwise). */
  end(): void {
    this.#reject = undefined;
  }

  signal(message: string): void {
    if (authFailure(message)) {
      this.#refused = { message, at: Date.now() };
      this.#fire(message);
      return;
    }
    // A broker that closes the connection during the first request (ApiVersion) is a TLS listener
    // reached in plaintext, or the other way round; once can also be a broker going down at that
    // moment, so it counts from the second time, and only during a connect attempt.
    if (/Disconnected.*APIVERSION_QUERY/.test(message) && ++this.#versionQueryCloses >= 2) {
      this.#fire(`${message}: the listener speaks another security protocol`);
    }
  }

  /** The last refusal (SASL or certificate) if it was seen within the last minute. */
  get last(): string | undefined {
    return this.#refused !== undefined && Date.now() - this.#refused.at < AUTH_MEMORY_MS ? this.#refused.message : undefined;
  }

  #fire(message: string): void {
    const reject = this.#reject;
    if (reject === undefined) return;
    this.#reject = undefined;
    reject(authenticationError(message));
  }
}

/** A librdkafka log line as the binding's `event.log` hands it over (severity: syslog levels, 3 = error). */
export interface RdLog {
  severity: number;
  fac: string;
  message: string;
}

/**
 * Forwards librdkafka's own log lines (the low-level clients' `event.log`): errors and warnings
 * as warnings, at most one per 30 s (a broker that is down is reported every few hundred ms and
 * librdkafka retries it by itself), the rest and the retries every start makes (`expectedRetry`:
 * a coordinator still loading, a leader election) at debug. librdkafka never writes `sasl.password`
 * into a log line (it is a "sensitive" property, redacted even in its configuration dump).
 */
export function rdLogForwarder(logger: () => Logger): (log: RdLog) => void {
  let last = 0;
  return (log) => {
    const fields = { lib: 'librdkafka', fac: log.fac };
    if (log.severity > 4 || expectedRetry.test(log.message)) return logger().debug(fields, log.message);
    const now = Date.now();
    if (now - last < 30_000) return logger().debug(fields, log.message);
    last = now;
    logger().warn(fields, log.message);
  };
}

/** librdkafka's `log_level` (syslog severities) for the binding's KafkaJS layer: warnings and worse. */
export const RD_LOG_LEVEL = 4;

/**
 * The logger the binding's KafkaJS-compatible layer calls (its own and librdkafka's lines). Its
 * INFO lines (group joins, connects) repeat on every rebalance and go out at debug; errors that
 * librdkafka retries by itself (a broker connection lost) are warnings, at most one per 30 s,
 * and each is shown to `onLine` (the AuthWatch). librdkafka never writes `sasl.password` or
 * `ssl.key.password` into its lines (they are "sensitive" properties, redacted even in its config
 * dump), and the layer logs messages and metadata, not the config: nothing here can carry a secret.
 */
export function bindingLogger(logger: Logger, onLine: (message: string) => void): Record<string, unknown> {
  let lastWarn = 0;
  const fields = (extra: unknown): Record<string, unknown> => {
    const out: Record<string, unknown> = { lib: 'librdkafka' };
    if (typeof extra === 'object' && extra !== null) {
      const { fac, name } = extra as { fac?: unknown; name?: unknown };
      if (typeof fac === 'string') out.fac = fac;
      if (typeof name === 'string') out.client = name;
    }
    return out;
  };
  const text = (message: unknown): string => (typeof message === 'string' ? message : String(message));
  const self: Record<string, unknown> = {
    info: (message: unknown, extra: unknown) => logger.debug(fields(extra), text(message)),
    debug: (message: unknown, extra: unknown) => logger.debug(fields(extra), text(message)),
    warn: (message: unknown, extra: unknown) => {
      const m = text(message);
      onLine(m);
      if (expectedRetry.test(m)) return logger.debug(fields(extra), m);
      logger.warn(fields(extra), m);
    },
    error: (message: unknown, extra: unknown) => {
      const m = text(message);
      // Our consumer logs a failed handler itself, once, with its backoff.
      if (m.startsWith('Consumer encountered error while processing message')) return logger.debug(fields(extra), m);
      onLine(m);
      const now = Date.now();
      if (expectedRetry.test(m) || now - lastWarn < 30_000) return logger.debug(fields(extra), m);
      lastWarn = now;
      logger.warn(fields(extra), m);
    },
    setLogLevel: () => undefined,
    namespace: () => self,
  };
  return self;
}
