import type { ConsumerOptions, KafkaClientName, ProducerOptions } from './types.js';
import { KAFKA_CLIENTS, type KafkaSasl, type KafkaSecurity, type KafkaTls } from '@pintrace/runtime';
import { configError } from './errors.js';

/** The client of producers, consumers and admins when the options name none (docs/decisions.md, D6). */
export const DEFAULT_CLIENT: KafkaClientName = 'librdkafka';
/** Every client behind the interface; kafkajs is the fallback where librdkafka's native build is missing. */
export const CLIENT_NAMES: readonly KafkaClientName[] = KAFKA_CLIENTS;

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 3_000;
export const DEFAULT_MAX_BYTES_PER_PARTITION = 1024 * 1024;
export const DEFAULT_MAX_WAIT_TIME_MS = 500;

/**
 * The client named in the options, else DEFAULT_CLIENT. The CLI resolves `--kafka-client` /
 * PINTRACE_KAFKA_CLIENT; this library never reads the environment.
 */
export function resolveClient(explicit: KafkaClientName | undefined): KafkaClientName {
  if (explicit === undefined) return DEFAULT_CLIENT;
  if ((CLIENT_NAMES as readonly string[]).includes(explicit)) return explicit;
  throw configError(`client is "${String(explicit)}": use one of ${CLIENT_NAMES.join(', ')} (--kafka-client)`);
}

export function validateBrokers(brokers: unknown): string[] {
  if (!Array.isArray(brokers) || brokers.length === 0) {
    throw configError('brokers is empty: give at least one "host:port", e.g. ["127.0.0.1:9092"]');
  }
  for (const b of brokers) {
    if (typeof b !== 'string' || (!/^[^\s:]+:\d{1,5}$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b))) {
      throw configError(`broker "${String(b)}" is not "host:port", e.g. "127.0.0.1:9092"`);
    }
  }
  return brokers as string[];
}

function positive(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isFinite(v) || v <= 0)) {
    throw configError(`${name} is ${v}: give a positive number`);
  }
}

export function validateProducerOptions(o: ProducerOptions): void {
  validateBrokers(o.brokers);
  positive('requestTimeoutMs', o.requestTimeoutMs);
  const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
  if (o.compression !== undefined && !codecs.includes(o.compression)) {
    throw configError(`compression is "${o.compression}": use one of ${codecs.join(', ')}`);
  }
  if (o.deliveryReports !== undefined && o.deliveryReports !== 'each' && o.deliveryReports !== 'drain') {
    throw configError(`deliveryReports is "${String(o.deliveryReports)}": use "each" or "drain"`);
  }
}

export function validateConsumerOptions(o: ConsumerOptions): void {
  validateBrokers(o.brokers);
  if (typeof o.groupId !== 'string' || o.groupId === '') throw configError('groupId is empty: give the consumer group name');
  if (!Array.isArray(o.topics) || o.topics.length === 0 || o.topics.some((t) => typeof t !== 'string' || t === '')) {
    throw configError('topics is empty: give at least one topic name');
  }
  positive('sessionTimeoutMs', o.sessionTimeoutMs);
  positive('heartbeatIntervalMs', o.heartbeatIntervalMs);
  positive('maxBytesPerPartition', o.maxBytesPerPartition);
  positive('maxWaitTimeMs', o.maxWaitTimeMs);
  const session = o.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  const hb = o.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  if (hb >= session) {
    throw configError(`heartbeatIntervalMs (${hb}) must be below sessionTimeoutMs (${session}); a third of it is usual`);
  }
}

/** Rejects with `onTimeout()` if `p` has not settled within `ms`. The timer is unref()ed. */
export function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** A security setting past the checks every client makes; what is left is the client's own mapping. */
export interface CheckedSecurity {
  protocol: Exclude<KafkaSecurity['protocol'], 'PLAINTEXT'>;
  /** With SSL and SASL_SSL: the TLS settings given, or the defaults (system CAs, host name checked). */
  tls?: KafkaTls;
  /** With SASL_SSL and SASL_PLAINTEXT. */
  sasl?: KafkaSasl;
}

/**
 * Which settings go with which protocol, the same for every client: nothing with PLAINTEXT
 * (undefined is returned), TLS files only with SSL or SASL_SSL and a client certificate only with
 * its key, SASL settings required by SASL_* and refused otherwise. The mechanisms and files a
 * client supports are its own to check.
 */
export function checkSecurity(security: KafkaSecurity | undefined): CheckedSecurity | undefined {
  if (security === undefined || security.protocol === 'PLAINTEXT') {
    if (security?.sasl !== undefined || security?.tls !== undefined)
      throw configError('SASL or TLS settings were given with --kafka-security-protocol PLAINTEXT: set SASL_SSL, SSL or SASL_PLAINTEXT');
    return undefined;
  }
  const { protocol } = security;
  const checked: CheckedSecurity = { protocol };
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const tls = security.tls ?? { verifyHostname: true };
    if ((tls.certFile === undefined) !== (tls.keyFile === undefined))
      throw configError('--kafka-cert-file and --kafka-key-file go together (mutual TLS): give both or neither');
    checked.tls = tls;
  } else if (security.tls !== undefined) {
    throw configError(`TLS files were given with --kafka-security-protocol ${protocol}: set SSL or SASL_SSL`);
  }
  if (protocol === 'SASL_SSL' || protocol === 'SASL_PLAINTEXT') {
    if (security.sasl === undefined)
      throw configError(`--kafka-security-protocol ${protocol} needs --kafka-sasl-mechanism, --kafka-sasl-username and a password`);
    checked.sasl = security.sasl;
  } else if (security.sasl !== undefined) {
    throw configError(`SASL settings were given with --kafka-security-protocol ${protocol}: set SASL_SSL or SASL_PLAINTEXT`);
  }
  return checked;
}
