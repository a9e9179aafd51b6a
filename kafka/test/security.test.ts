import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { KafkaSecurity, Logger } from '@pintrace/runtime';
import { librdkafkaAvailable, librdkafkaSecurityConfig } from '../src/librdkafka-base.js';
import { kafkajsSecurityConfig } from '../src/kafkajs.js';
import { createAdmin, createConsumer, createProducer } from '../src/factory.js';
import { KafkaClientError } from '../src/errors.js';
import type { KafkaClientName } from '../src/types.js';

const ALL = ['gzip', 'snappy', 'ssl', 'sasl', 'sasl_plain', 'sasl_scram', 'sasl_oauthbearer', 'oidc'];
const SECRET = 'S3cr3t-pintrace-Pa55word-9f2c';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pintrace-kafka-sec-unit-'));
  for (const f of ['ca.pem', 'client.pem', 'client-key.pem']) writeFileSync(path.join(dir, f), `-----BEGIN ${f}-----\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sasl = (mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER', extra: Partial<KafkaSecurity['sasl'] & object> = {}) => ({
  mechanism,
  username: 'pintrace',
  password: SECRET,
  ...extra,
});

describe('librdkafka configuration of KafkaSecurity', () => {
  it('adds nothing for PLAINTEXT (or no security at all)', () => {
    expect(librdkafkaSecurityConfig(undefined, ALL)).toEqual({});
    expect(librdkafkaSecurityConfig({ protocol: 'PLAINTEXT' }, ALL)).toEqual({});
  });

  it('maps SASL_SSL with SCRAM and a CA file, hostname verification on', () => {
    const conf = librdkafkaSecurityConfig({ protocol: 'SASL_SSL', sasl: sasl('SCRAM-SHA-512'), tls: { caFile: '/ca.pem', verifyHostname: true } }, ALL);
    expect(conf).toEqual({
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'pintrace',
      'sasl.password': SECRET,
      'enable.ssl.certificate.verification': true,
      'ssl.endpoint.identification.algorithm': 'https',
      'ssl.ca.location': '/ca.pem',
    });
  });

  it('maps SSL with a client certificate (mTLS), and hostname verification off only when asked', () => {
    const conf = librdkafkaSecurityConfig({ protocol: 'SSL', tls: { certFile: '/c.pem', keyFile: '/k.pem', verifyHostname: false } }, ALL);
    expect(conf).toEqual({
      'security.protocol': 'ssl',
      'enable.ssl.certificate.verification': true,
      'ssl.endpoint.identification.algorithm': 'none',
      'ssl.certificate.location': '/c.pem',
      'ssl.key.location': '/k.pem',
    });
    // TLS settings absent altogether: the system CAs, hostname verified.
    expect(librdkafkaSecurityConfig({ protocol: 'SSL' }, ALL)['ssl.endpoint.identification.algorithm']).toBe('https');
  });

  it('maps SASL_PLAINTEXT with PLAIN and SCRAM-SHA-256', () => {
    expect(librdkafkaSecurityConfig({ protocol: 'SASL_PLAINTEXT', sasl: sasl('PLAIN') }, ALL)).toEqual({
      'security.protocol': 'sasl_plaintext',
      'sasl.mechanisms': 'PLAIN',
      'sasl.username': 'pintrace',
      'sasl.password': SECRET,
    });
    expect(librdkafkaSecurityConfig({ protocol: 'SASL_PLAINTEXT', sasl: sasl('SCRAM-SHA-256') }, ALL)['sasl.mechanisms']).toBe('SCRAM-SHA-256');
  });

  it("maps OAUTHBEARER to librdkafka's OIDC client-credentials flow where the build has it", () => {
    const conf = librdkafkaSecurityConfig(
      { protocol: 'SASL_SSL', sasl: sasl('OAUTHBEARER', { oauthbearerTokenEndpointUrl: 'https://idp.example/token' }), tls: { verifyHostname: true } },
      ALL,
    );
    expect(conf).toMatchObject({
      'sasl.mechanisms': 'OAUTHBEARER',
      'sasl.oauthbearer.method': 'oidc',
      'sasl.oauthbearer.client.id': 'pintrace',
      'sasl.oauthbearer.client.secret': SECRET,
      'sasl.oauthbearer.token.endpoint.url': 'https://idp.example/token',
    });
  });

  it('refuses, naming the setting, what the build cannot honour', () => {
    const noOidc = ALL.filter((f) => f !== 'oidc');
    const oauth: KafkaSecurity = {
      protocol: 'SASL_SSL',
      sasl: sasl('OAUTHBEARER', { oauthbearerTokenEndpointUrl: 'https://idp.example/token' }),
      tls: { verifyHostname: true },
    };
    expect(() => librdkafkaSecurityConfig(oauth, noOidc)).toThrow(expect.objectContaining({ code: 'KAFKA_CONFIG', retryable: false }));
    expect(() => librdkafkaSecurityConfig(oauth, noOidc)).toThrow(/--kafka-sasl-mechanism OAUTHBEARER needs librdkafka built with libcurl/);
    expect(() => librdkafkaSecurityConfig({ protocol: 'SSL' }, ['gzip'])).toThrow(/--kafka-security-protocol SSL needs librdkafka built with OpenSSL/);
    expect(() => librdkafkaSecurityConfig({ protocol: 'SASL_PLAINTEXT', sasl: sasl('SCRAM-SHA-512') }, ['sasl', 'sasl_plain'])).toThrow(
      /SCRAM-SHA-512 needs librdkafka feature "sasl_scram"/,
    );
    expect(() => librdkafkaSecurityConfig({ protocol: 'SSL', tls: { certFile: '/c.pem', verifyHostname: true } }, ALL)).toThrow(
      /--kafka-cert-file and --kafka-key-file go together/,
    );
    expect(() => librdkafkaSecurityConfig({ protocol: 'PLAINTEXT', sasl: sasl('PLAIN') }, ALL)).toThrow(/PLAINTEXT/);
    expect(() => librdkafkaSecurityConfig({ protocol: 'SASL_SSL' }, ALL)).toThrow(/--kafka-sasl-mechanism/);
  });
});

describe('kafkajs configuration of KafkaSecurity', () => {
  it('maps SASL_SSL with SCRAM: node:tls verifying the chain against the CA file and the host name', () => {
    const conf = kafkajsSecurityConfig({ protocol: 'SASL_SSL', sasl: sasl('SCRAM-SHA-512'), tls: { caFile: path.join(dir, 'ca.pem'), verifyHostname: true } });
    expect(conf.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'pintrace', password: SECRET });
    expect(conf.ssl).toEqual({ rejectUnauthorized: true, ca: ['-----BEGIN ca.pem-----\n'] });
  });

  it('maps mTLS files, PLAIN and SCRAM-SHA-256, and skips only the name check when verifyHostname is false', () => {
    const conf = kafkajsSecurityConfig({
      protocol: 'SSL',
      tls: { certFile: path.join(dir, 'client.pem'), keyFile: path.join(dir, 'client-key.pem'), verifyHostname: false },
    });
    const ssl = conf.ssl as { cert: string; key: string; rejectUnauthorized: boolean; checkServerIdentity: () => unknown };
    expect(ssl.cert).toBe('-----BEGIN client.pem-----\n');
    expect(ssl.key).toBe('-----BEGIN client-key.pem-----\n');
    expect(ssl.rejectUnauthorized).toBe(true);
    expect(ssl.checkServerIdentity()).toBeUndefined();
    expect(conf.sasl).toBeUndefined();
    expect(kafkajsSecurityConfig({ protocol: 'SASL_PLAINTEXT', sasl: sasl('PLAIN') })).toEqual({
      sasl: { mechanism: 'plain', username: 'pintrace', password: SECRET },
    });
    expect(kafkajsSecurityConfig({ protocol: 'SASL_PLAINTEXT', sasl: sasl('SCRAM-SHA-256') }).sasl).toMatchObject({ mechanism: 'scram-sha-256' });
    expect(kafkajsSecurityConfig({ protocol: 'SSL' }).ssl).toEqual({ rejectUnauthorized: true });
  });

  it('refuses OAUTHBEARER (it cannot fetch tokens) and unreadable files, naming the setting', () => {
    const oauth: KafkaSecurity = {
      protocol: 'SASL_SSL',
      sasl: sasl('OAUTHBEARER', { oauthbearerTokenEndpointUrl: 'https://idp.example/token' }),
      tls: { verifyHostname: true },
    };
    expect(() => kafkajsSecurityConfig(oauth)).toThrow(expect.objectContaining({ code: 'KAFKA_CONFIG' }));
    expect(() => kafkajsSecurityConfig(oauth)).toThrow(/OAUTHBEARER is not supported by the kafkajs client.*--kafka-client librdkafka/);
    expect(() => kafkajsSecurityConfig({ protocol: 'SSL', tls: { caFile: path.join(dir, 'missing.pem'), verifyHostname: true } })).toThrow(
      /--kafka-ca-file: cannot read .*missing\.pem \(ENOENT\)/,
    );
  });
});

/** A logger whose every line (any level) is kept as text. */
function capturingLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, stream) as unknown as Logger, text: () => lines.join('') };
}

/** Everything an error can show: message, stack, own properties, and its causes'. */
function errorText(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur !== undefined && cur !== null; i++) {
    parts.push(String(cur), (cur as Error).stack ?? '', JSON.stringify(cur, Object.getOwnPropertyNames(cur as object)));
    cur = (cur as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

describe('secrets in errors and log lines', () => {
  // A "broker" that accepts and hangs up at once: every client reaches its connect path, logs
  // and fails, with the password in its configuration all along.
  let server: net.Server;
  let broker: string;
  beforeAll(async () => {
    server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    broker = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const clients: KafkaClientName[] = librdkafkaAvailable() ? ['librdkafka', 'kafkajs'] : ['kafkajs'];
  // One mechanism: against a broker that hangs up, the mechanisms share the path up to the login.
  const mechanisms = ['SCRAM-SHA-512'] as const;

  it.each(clients)(
    '%s: producer, consumer and admin fail to connect without the password in any error or log line',
    async (client) => {
      for (const mechanism of mechanisms) {
        const { logger, text } = capturingLogger();
        const security: KafkaSecurity = { protocol: 'SASL_PLAINTEXT', sasl: sasl(mechanism) };
        const producer = createProducer({ brokers: [broker], client, security, logger, requestTimeoutMs: 3000 });
        const consumer = createConsumer({ brokers: [broker], client, security, logger, groupId: 'g', topics: ['t'] });
        const admin = createAdmin([broker], { client, security, logger });
        const errors = await Promise.all([
          producer.connect().then(
            () => undefined,
            (e: unknown) => e,
          ),
          consumer.connect().then(
            () => undefined,
            (e: unknown) => e,
          ),
          admin.endOffsets('t').then(
            () => undefined,
            (e: unknown) => e,
          ),
        ]);
        await Promise.all([producer.disconnect(), consumer.disconnect(), admin.close()]);
        for (const e of errors) {
          expect(e, `${client} ${mechanism}`).toBeInstanceOf(KafkaClientError);
          expect(errorText(e)).not.toContain(SECRET);
        }
        expect(text().length, 'the clients logged something').toBeGreaterThan(0);
        expect(text()).not.toContain(SECRET);
      }
    },
    120_000,
  );

  it.each(clients)('%s: configuration refusals do not carry the password either', (client) => {
    const refusals: unknown[] = [];
    const oauth: KafkaSecurity = {
      protocol: 'SASL_SSL',
      sasl: sasl('OAUTHBEARER', { oauthbearerTokenEndpointUrl: 'https://idp.example/token' }),
      tls: { verifyHostname: true },
    };
    const bad: KafkaSecurity = { protocol: 'PLAINTEXT', sasl: sasl('SCRAM-SHA-512') };
    for (const security of client === 'kafkajs' ? [oauth, bad] : [bad]) {
      try {
        createProducer({ brokers: [broker], client, security });
      } catch (e) {
        refusals.push(e);
      }
    }
    expect(refusals.length).toBeGreaterThan(0);
    for (const e of refusals) {
      expect(e).toMatchObject({ code: 'KAFKA_CONFIG' });
      expect(errorText(e)).not.toContain(SECRET);
    }
  });
});
