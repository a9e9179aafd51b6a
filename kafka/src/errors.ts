/**
 * Errors of the Kafka layer. Every error thrown through the SpanProducer / SpanConsumer /
 * TopicAdmin interface is a KafkaClientError (on runtime's PintraceError) with a stable `code`,
 * the library error as `cause`, and `retryable`: true when the same call may succeed later
 * without changing anything (broker down, leader moving, timeout, rebalance), false when it will
 * not (bad config, message too large, authorisation). The libraries spell their own flag
 * `retriable`; that spelling is only read from their errors, never written on ours.
 */
import { PintraceError } from '@pintrace/runtime';

export type KafkaErrorCode =
  /** Options are invalid; the message says what to change. */
  | 'KAFKA_CONFIG'
  /** A method was called before connect() or after disconnect(). */
  | 'KAFKA_NOT_CONNECTED'
  /** No broker could be reached, or a connection broke. */
  | 'KAFKA_CONNECTION'
  /**
   * The brokers refused this client's credentials (SASL) or TLS failed (unknown CA, wrong host
   * name, plaintext to a TLS listener or the other way round). Not retryable: a setting must change.
   */
  | 'KAFKA_AUTHENTICATION'
  /** The operation did not finish within its deadline. */
  | 'KAFKA_TIMEOUT'
  /** The topic or partition does not exist (and is not auto-created). */
  | 'KAFKA_UNKNOWN_TOPIC'
  /** The group rebalanced (or this member was fenced) before a commit; re-consume and commit again. */
  | 'KAFKA_REBALANCE'
  /**
   * The idempotent producer session was lost (broker restart, id expiry); the producer started a
   * new one. The failed messages may or may not have been written: resend them.
   */
  | 'KAFKA_PRODUCER_RESET'
  /** A message or batch is larger than the broker accepts. */
  | 'KAFKA_MESSAGE_TOO_LARGE'
  /** Any other error the broker returned. */
  | 'KAFKA_PROTOCOL'
  /** Anything else. */
  | 'KAFKA_UNKNOWN';

export class KafkaClientError extends PintraceError<KafkaErrorCode> {
  override readonly name = 'KafkaClientError';
}

export function configError(message: string): KafkaClientError {
  return new KafkaClientError('KAFKA_CONFIG', message, { retryable: false });
}

/**
 * KAFKA_AUTHENTICATION with a hint naming the setting to change: the brokers refused the SASL
 * login, the TLS handshake failed, or plaintext met a TLS listener. `message` is the library's
 * account (librdkafka and kafkajs never put the password in it).
 */
export function authenticationError(message: string, cause?: unknown): KafkaClientError {
  // Certificates first: librdkafka's lines start with the broker's URL, whose scheme may say "sasl_ssl".
  const hint = /certificate|verify failed|self.signed|issuer|altname/i.test(message)
    ? "check --kafka-ca-file (the CA that signed the brokers' certificates) and that the broker address matches its certificate (--kafka-verify-hostname)"
    : /SASL authentication|credentials|Authentication failed|SASL .*failed/i.test(message)
      ? 'check --kafka-sasl-username, --kafka-sasl-password(-file) and --kafka-sasl-mechanism'
      : 'check --kafka-security-protocol (plaintext to a TLS listener, or TLS to a plaintext one, fails like this) and --kafka-ca-file';
  return new KafkaClientError('KAFKA_AUTHENTICATION', `the brokers refused the connection: ${message}; ${hint}`, { retryable: false, cause });
}

export function notConnected(what: string): KafkaClientError {
  return new KafkaClientError('KAFKA_NOT_CONNECTED', `${what}: call connect() first`, { retryable: false });
}

/** Kafka protocol error names (as kafkajs spells them) mapped to our codes. */
const protocolCodes: Record<string, KafkaErrorCode> = {
  UNKNOWN_TOPIC_OR_PARTITION: 'KAFKA_UNKNOWN_TOPIC',
  UNKNOWN_TOPIC_ID: 'KAFKA_UNKNOWN_TOPIC',
  REBALANCE_IN_PROGRESS: 'KAFKA_REBALANCE',
  ILLEGAL_GENERATION: 'KAFKA_REBALANCE',
  UNKNOWN_MEMBER_ID: 'KAFKA_REBALANCE',
  FENCED_INSTANCE_ID: 'KAFKA_REBALANCE',
  STALE_MEMBER_EPOCH: 'KAFKA_REBALANCE',
  MESSAGE_TOO_LARGE: 'KAFKA_MESSAGE_TOO_LARGE',
  RECORD_LIST_TOO_LARGE: 'KAFKA_MESSAGE_TOO_LARGE',
  REQUEST_TIMED_OUT: 'KAFKA_TIMEOUT',
};

/**
 * Node's TLS verification failures (kafkajs connects with node:tls): the broker's certificate is
 * not signed by the given CA, or does not name the host dialled. Retrying cannot help.
 */
const tlsCodes = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** Codes that are retryable whatever the library says. */
const alwaysRetryable = new Set<KafkaErrorCode>(['KAFKA_CONNECTION', 'KAFKA_TIMEOUT', 'KAFKA_REBALANCE']);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  type?: unknown;
  code?: unknown;
  apiId?: unknown;
  retriable?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function asErrorLike(e: unknown): ErrorLike {
  return typeof e === 'object' && e !== null ? (e as ErrorLike) : {};
}

/** Walks cause chains and aggregate errors, innermost last. */
function chain(e: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const seen = new Set<unknown>();
  const stack: unknown[] = [e];
  while (stack.length > 0 && out.length < 32) {
    const cur = stack.shift();
    if (cur === undefined || cur === null || seen.has(cur)) continue;
    seen.add(cur);
    const el = asErrorLike(cur);
    out.push(el);
    if (el.cause !== undefined) stack.push(el.cause);
    if (Array.isArray(el.errors)) stack.push(...el.errors);
    else if (el.errors instanceof Map) stack.push(...(el.errors as Map<unknown, unknown>).values());
    else if (typeof el.errors === 'object' && el.errors !== null) stack.push(...Object.values(el.errors));
  }
  return out;
}

function classifyOne(el: ErrorLike): KafkaErrorCode | undefined {
  const name = typeof el.name === 'string' ? el.name : '';
  const type = typeof el.type === 'string' ? el.type : '';
  const apiId = typeof el.apiId === 'string' ? el.apiId : '';
  const code = typeof el.code === 'string' ? el.code : '';
  const msg = typeof el.message === 'string' ? el.message : '';
  const proto = protocolCodes[type] ?? protocolCodes[apiId];
  if (proto) return proto;
  if (/SASLAuthentication/.test(name) || type === 'SASL_AUTHENTICATION_FAILED' || tlsCodes.has(code)) return 'KAFKA_AUTHENTICATION';
  if (/Connection|BrokerNotFound|NoBrokerAvailable/.test(name)) return 'KAFKA_CONNECTION';
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) {
    return 'KAFKA_CONNECTION';
  }
  if (/Timeout/.test(name) || /timed? ?out/i.test(msg)) return 'KAFKA_TIMEOUT';
  if (/Rebalance/.test(name)) return 'KAFKA_REBALANCE';
  if (type !== '' || name === 'KafkaJSProtocolError') return 'KAFKA_PROTOCOL';
  return undefined;
}

/**
 * Wraps any error from kafkajs into a KafkaClientError (librdkafka's errors are mapped in
 * librdkafka-base.ts, by librdkafka's error names). The most specific code found along the cause
 * chain wins; `retryable` comes from the code where the code decides it, else from the library's
 * own flag.
 */
export function toKafkaError(e: unknown, context: string): KafkaClientError {
  if (e instanceof KafkaClientError) return e;
  const links = chain(e);
  let code: KafkaErrorCode = 'KAFKA_UNKNOWN';
  for (const el of links) {
    const c = classifyOne(el);
    if (c === undefined) continue;
    // Prefer a specific code over the generic ones; a TLS or SASL failure under a connection error is the news.
    if (code === 'KAFKA_UNKNOWN' || (code === 'KAFKA_PROTOCOL' && c !== 'KAFKA_PROTOCOL') || (code === 'KAFKA_CONNECTION' && c === 'KAFKA_AUTHENTICATION'))
      code = c;
  }
  let retryable: boolean;
  if (alwaysRetryable.has(code)) retryable = true;
  else if (code === 'KAFKA_MESSAGE_TOO_LARGE' || code === 'KAFKA_CONFIG' || code === 'KAFKA_AUTHENTICATION') retryable = false;
  else {
    const top = links[0] ?? {};
    const flag = typeof top.retriable === 'boolean' ? top.retriable : undefined;
    const inner = links.some((l) => l.retriable === true);
    retryable = flag ?? inner;
    if (code === 'KAFKA_UNKNOWN_TOPIC') retryable = true; // metadata may be catching up
  }
  const first = links[0];
  const detail = first && typeof first.message === 'string' ? first.message : String(e);
  if (code === 'KAFKA_AUTHENTICATION') return authenticationError(`${context}: ${detail}`, e);
  return new KafkaClientError(code, `${context}: ${detail}`, { retryable, cause: e });
}
