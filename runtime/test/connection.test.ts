import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  commonOptions,
  kafkaConnectionOf,
  kafkaConnectionOptions,
  redactUrl,
  resolveConfig,
  storeConnectionOf,
  storeConnectionOptions,
} from '../src/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pintrace-connection-'));
const file = (name: string, content: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};
const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\n');
const passwordFile = file('password', 'file-secret-1\n');

const kafkaSet = { kafka: commonOptions.kafka, ...kafkaConnectionOptions };
const storeSet = { es: commonOptions.es, ...storeConnectionOptions };
const kafkaOf = (env: Record<string, string>) => kafkaConnectionOf(resolveConfig(kafkaSet, { env }));
const storeOf = (env: Record<string, string>) => storeConnectionOf(resolveConfig(storeSet, { env }));

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('kafkaConnectionOf', () => {
  it('defaults to PLAINTEXT with no client named', () => {
    expect(kafkaOf({})).toEqual({ brokers: ['127.0.0.1:9092'], security: { protocol: 'PLAINTEXT' } });
  });

  it('resolves SASL_SSL with SCRAM, a CA and a password file', () => {
    const c = kafkaOf({
      PINTRACE_KAFKA_BROKERS: 'k1:9093,k2:9093',
      PINTRACE_KAFKA_CLIENT: 'kafkajs',
      PINTRACE_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      PINTRACE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      PINTRACE_KAFKA_SASL_USERNAME: 'pintrace',
      PINTRACE_KAFKA_SASL_PASSWORD_FILE: passwordFile,
      PINTRACE_KAFKA_CA_FILE: ca,
    });
    expect(c).toEqual({
      brokers: ['k1:9093', 'k2:9093'],
      client: 'kafkajs',
      security: {
        protocol: 'SASL_SSL',
        sasl: { mechanism: 'SCRAM-SHA-512', username: 'pintrace', password: 'file-secret-1' },
        tls: { caFile: ca, verifyHostname: true },
      },
    });
  });

  it('names every missing SASL setting', () => {
    const msg = problemsOf(() => kafkaOf({ PINTRACE_KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT' }));
    expect(msg).toMatch(/--kafka-sasl-mechanism/);
    expect(msg).toMatch(/--kafka-sasl-username/);
    expect(msg).toMatch(/--kafka-sasl-password-file/);
  });

  it('refuses settings the protocol would ignore, rather than connecting with less security', () => {
    expect(problemsOf(() => kafkaOf({ PINTRACE_KAFKA_SASL_USERNAME: 'u', PINTRACE_KAFKA_SASL_PASSWORD: 'p' }))).toMatch(
      /need --kafka-security-protocol SASL_SSL/,
    );
    expect(problemsOf(() => kafkaOf({ PINTRACE_KAFKA_CA_FILE: ca }))).toMatch(/need --kafka-security-protocol SSL or SASL_SSL/);
  });

  it('reports an unreadable CA file by its flag, and a certificate without its key', () => {
    const msg = problemsOf(() =>
      kafkaOf({ PINTRACE_KAFKA_SECURITY_PROTOCOL: 'SSL', PINTRACE_KAFKA_CA_FILE: '/nonexistent/ca.pem', PINTRACE_KAFKA_CERT_FILE: ca }),
    );
    expect(msg).toMatch(/--kafka-ca-file \/ PINTRACE_KAFKA_CA_FILE: cannot read \/nonexistent\/ca.pem \(ENOENT\)/);
    expect(msg).toMatch(/--kafka-cert-file and --kafka-key-file go together/);
  });

  it('rejects a password given twice, without printing either', () => {
    const msg = problemsOf(() =>
      kafkaOf({
        PINTRACE_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        PINTRACE_KAFKA_SASL_MECHANISM: 'PLAIN',
        PINTRACE_KAFKA_SASL_USERNAME: 'u',
        PINTRACE_KAFKA_SASL_PASSWORD: 'inline-secret-2',
        PINTRACE_KAFKA_SASL_PASSWORD_FILE: passwordFile,
      }),
    );
    expect(msg).toMatch(/both set: give one/);
    expect(msg).not.toMatch(/inline-secret-2|file-secret-1/);
  });

  it('names the unknown protocol and mechanism values', () => {
    expect(problemsOf(() => kafkaOf({ PINTRACE_KAFKA_SECURITY_PROTOCOL: 'TLS' }))).toMatch(/PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/);
    expect(problemsOf(() => kafkaOf({ PINTRACE_KAFKA_CLIENT: 'platformatic' }))).toMatch(/--kafka-client/);
  });
});

describe('storeConnectionOf', () => {
  it('resolves basic auth with a password file and a CA for https', () => {
    expect(
      storeOf({ PINTRACE_ES_URL: 'https://es:9200', PINTRACE_ES_USERNAME: 'zipkin', PINTRACE_ES_PASSWORD_FILE: passwordFile, PINTRACE_ES_CA_FILE: ca }),
    ).toEqual({
      url: 'https://es:9200',
      username: 'zipkin',
      password: 'file-secret-1',
      caFile: ca,
    });
  });

  it('resolves an API key alone, and URL credentials alone', () => {
    expect(storeOf({ PINTRACE_ES_API_KEY: 'a2V5' })).toEqual({ url: 'http://127.0.0.1:9200', apiKey: 'a2V5' });
    expect(storeOf({ PINTRACE_ES_URL: 'https://u:p@es:9200' })).toEqual({ url: 'https://u:p@es:9200' });
  });

  it('refuses two ways to authenticate and a user without a password', () => {
    expect(problemsOf(() => storeOf({ PINTRACE_ES_API_KEY: 'k', PINTRACE_ES_USERNAME: 'u', PINTRACE_ES_PASSWORD: 'p' }))).toMatch(
      /--es-api-key and basic auth/,
    );
    expect(problemsOf(() => storeOf({ PINTRACE_ES_USERNAME: 'u' }))).toMatch(/--es-username and --es-password/);
    expect(problemsOf(() => storeOf({ PINTRACE_ES_URL: 'https://u:p@es:9200', PINTRACE_ES_USERNAME: 'v', PINTRACE_ES_PASSWORD: 'q' }))).toMatch(
      /--es carries user:password@/,
    );
  });

  it('refuses TLS files with an http URL', () => {
    expect(problemsOf(() => storeOf({ PINTRACE_ES_CA_FILE: ca }))).toMatch(/need an https:\/\/ URL/);
  });
});

describe('secrets in configuration errors', () => {
  it('an invalid secret value is not echoed; other values are', () => {
    const msg = problemsOf(() => resolveConfig(storeSet, { env: { PINTRACE_ES_PASSWORD: '   ', PINTRACE_ES_URL: 'ftp://x' } }));
    expect(msg).toMatch(/PINTRACE_ES_PASSWORD.*\(the secret given\)/);
    expect(msg).toMatch(/"ftp:\/\/x"/);
  });

  it("a config file may carry every part's connection settings", () => {
    const config = file(
      'client-config.json',
      JSON.stringify({ kafka: 'k:9093', kafkaSecurityProtocol: 'SSL', kafkaCaFile: ca, es: 'https://es:9200', esCaFile: ca }),
    );
    expect(resolveConfig(kafkaSet, { env: {}, file: config }).kafkaSecurityProtocol).toBe('SSL');
    expect(resolveConfig(storeSet, { env: {}, file: config }).esCaFile).toBe(ca);
    const typo = file('typo.json', JSON.stringify({ kafkaSecurityProtocl: 'SSL' }));
    expect(problemsOf(() => resolveConfig(kafkaSet, { env: {}, file: typo }))).toMatch(/unknown key "kafkaSecurityProtocl"/);
  });
});

describe('redactUrl', () => {
  it('hides credentials of every URL in a list and keeps the rest', () => {
    expect(redactUrl('https://elastic:s3cr3t@es1:9200,http://es2:9200')).toBe('https://***@es1:9200,http://es2:9200');
    expect(redactUrl('http://127.0.0.1:9200')).toBe('http://127.0.0.1:9200');
    expect(redactUrl('https://user@es:9200/path?q=1')).toBe('https://***@es:9200/path?q=1');
  });
});
