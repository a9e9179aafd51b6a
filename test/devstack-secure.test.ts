/**
 * `devstack up --secure`: a real Kafka 4.1.1 broker whose only client port is a SASL_SSL listener
 * (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with certificates of the devstack's own CA, and a
 * client-config.json the parts take as --config. A private devstack (block 4: 49092/49093), so
 * the shared one keeps serving the other tests.
 *
 * Clients: SCRAM with librdkafka 2.15 through @confluentinc/kafka-javascript (the agent's
 * producer client) and with kafkajs; kcat from Debian links librdkafka 2.0.2, whose SCRAM proof
 * Kafka 4 rejects (librdkafka fixed it in 2.6.1), so kcat is used over SASL_SSL with PLAIN.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { up } from '@pintrace/devstack';
import { KafkaWire } from '../devstack/src/kafka-wire.js';
import { privateDevstack } from './support/private-devstack.js';
import { eventually, uniqueName } from './support/servers.js';

const run = promisify(execFile);

interface ClientConfig {
  kafka: string;
  kafkaSecurityProtocol: string;
  kafkaSaslMechanism: string;
  kafkaSaslUsername: string;
  kafkaSaslPasswordFile: string;
  kafkaCaFile: string;
  [key: string]: unknown;
}

/** The low-level librdkafka binding's surface this test uses. */
interface RdKafka {
  Producer: new (
    conf: Record<string, unknown>,
  ) => {
    connect(o: object, cb: (err: Error | null) => void): void;
    produce(topic: string, partition: number | null, value: Buffer, key: string): void;
    flush(ms: number, cb: (err: Error | null) => void): void;
    disconnect(cb: () => void): void;
    setPollInterval(ms: number): void;
    on(event: 'delivery-report', cb: (err: Error | null) => void): void;
  };
  KafkaConsumer: new (
    conf: Record<string, unknown>,
    topicConf: Record<string, unknown>,
  ) => {
    connect(o: object, cb: (err: Error | null) => void): void;
    subscribe(topics: string[]): void;
    consume(n: number, cb: (err: Error | null, messages: Array<{ value: Buffer | null }>) => void): void;
    disconnect(cb: () => void): void;
  };
}
const rd = createRequire(import.meta.url)('@confluentinc/kafka-javascript') as RdKafka;

const ds = privateDevstack('secure', 4, ['kafka'], { secure: true, heap: '384m' });
let cfg: ClientConfig;
let password: string;
let tmp: string;

/** librdkafka settings from client-config.json, as a part would build them. */
function rdConf(c: ClientConfig, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'bootstrap.servers': c.kafka,
    'security.protocol': c.kafkaSecurityProtocol.toLowerCase(),
    'sasl.mechanisms': c.kafkaSaslMechanism,
    'sasl.username': c.kafkaSaslUsername,
    'sasl.password': readFileSync(c.kafkaSaslPasswordFile, 'utf8').trim(),
    'ssl.ca.location': c.kafkaCaFile,
    'ssl.endpoint.identification.algorithm': 'https',
    ...overrides,
  };
}

function rdProduce(conf: Record<string, unknown>, topic: string, values: string[], connectTimeoutMs = 30_000): Promise<void> {
  const p = new rd.Producer({ ...conf, dr_cb: true, 'message.timeout.ms': 30_000, 'enable.idempotence': true });
  return new Promise((resolve, reject) => {
    let pending = values.length;
    p.on('delivery-report', (err) => {
      if (err) reject(err);
      else if (--pending === 0) p.disconnect(() => resolve());
    });
    p.connect({ timeout: connectTimeoutMs }, (err) => {
      if (err) return reject(err);
      p.setPollInterval(20);
      for (const v of values) p.produce(topic, null, Buffer.from(v), 'k');
    });
  });
}

async function rdConsume(conf: Record<string, unknown>, topic: string, want: number): Promise<string[]> {
  const c = new rd.KafkaConsumer({ ...conf, 'group.id': uniqueName('secure-rt'), 'enable.auto.commit': false }, { 'auto.offset.reset': 'earliest' });
  await new Promise<void>((resolve, reject) => c.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
  c.subscribe([topic]);
  const got: string[] = [];
  try {
    await eventually(
      () =>
        new Promise<true | undefined>((resolve, reject) =>
          c.consume(100, (err, messages) => {
            if (err) return reject(err);
            for (const m of messages) if (m.value) got.push(m.value.toString());
            resolve(got.length >= want ? true : undefined);
          }),
        ),
      { timeoutMs: 60_000, intervalMs: 100, what: `${want} messages from ${topic}` },
    );
  } finally {
    await new Promise<void>((resolve) => c.disconnect(() => resolve()));
  }
  return got;
}

function kafkajsClient(
  c: ClientConfig,
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512',
  pass = password,
  tlsCert: { cert: Buffer; key: Buffer } | object = {},
) {
  return new kafkajs.Kafka({
    brokers: c.kafka.split(','),
    ssl: { ca: [readFileSync(c.kafkaCaFile)], ...tlsCert },
    sasl: { mechanism, username: c.kafkaSaslUsername, password: pass } as kafkajs.SASLOptions,
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 5000,
  });
}

describe('devstack up --secure (SASL_SSL Kafka)', () => {
  beforeAll(async () => {
    await ds.start();
    cfg = JSON.parse(readFileSync(ds.clientConfig, 'utf8')) as ClientConfig;
    password = readFileSync(cfg.kafkaSaslPasswordFile, 'utf8').trim();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'pintrace-secure-'));
  });
  afterAll(async () => {
    await ds.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('writes client-config.json with every Kafka setting and secrets only as files', () => {
    expect(cfg).toMatchObject({
      kafka: ds.kafka,
      kafkaSecurityProtocol: 'SASL_SSL',
      kafkaSaslMechanism: 'SCRAM-SHA-512',
      kafkaSaslUsername: 'pintrace',
    });
    expect(cfg.kafkaCaFile).toBe(path.join(ds.config.dir, 'certs', 'ca.pem'));
    expect(cfg.kafkaSaslPasswordFile.startsWith(path.join(ds.config.dir, 'secrets') + path.sep)).toBe(true);
    expect(Object.keys(cfg).filter((k) => /password|apikey|secret/i.test(k) && !k.endsWith('File'))).toEqual([]);
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(readFileSync(ds.clientConfig, 'utf8')).not.toContain(password);
    expect(statSync(cfg.kafkaSaslPasswordFile).mode & 0o077).toBe(0);
  });

  it('round-trips over SASL_SSL SCRAM-SHA-512 with librdkafka configured from client-config.json', async () => {
    const topic = uniqueName('secure-rt');
    const values = Array.from({ length: 20 }, (_, i) => `scram-512-${i}-${randomBytes(4).toString('hex')}`);
    await rdProduce(rdConf(cfg), topic, values);
    expect((await rdConsume(rdConf(cfg), topic, values.length)).sort()).toEqual([...values].sort());
  });

  it('authenticates every mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and refuses a wrong password', async () => {
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      const admin = kafkajsClient(cfg, mechanism).admin();
      await admin.connect();
      expect((await admin.describeCluster()).brokers.map((b) => b.port)).toEqual([ds.config.kafkaPort]);
      await admin.disconnect();
    }
    const bad = kafkajsClient(cfg, 'scram-sha-512', `${password}x`).admin();
    await expect(bad.connect()).rejects.toThrow(/authentication/i);
    await bad.disconnect();
    await expect(
      rdProduce(rdConf(cfg, { 'sasl.password': 'not-the-password', 'message.timeout.ms': 5000 }), uniqueName('secure-bad'), ['x'], 5000),
    ).rejects.toThrow();
  });

  it("accepts a client that offers the devstack's client certificate (mutual-TLS client settings), SASL still authenticating", async () => {
    const certs = path.join(ds.config.dir, 'certs');
    const ours = { cert: readFileSync(path.join(certs, 'client.pem')), key: readFileSync(path.join(certs, 'client-key.pem')) };
    const admin = kafkajsClient(cfg, 'scram-sha-512', password, ours).admin();
    await admin.connect();
    expect((await admin.describeCluster()).brokers).toHaveLength(1);
    await admin.disconnect();
    const bad = kafkajsClient(cfg, 'scram-sha-512', `${password}x`, ours).admin();
    await expect(bad.connect()).rejects.toThrow(/authentication/i);
    await bad.disconnect();
  });

  it('serves kcat (Debian librdkafka) over SASL_SSL PLAIN, verifying the certificate against ca.pem and 127.0.0.1', async () => {
    const conf = path.join(tmp, 'kcat.conf');
    await writeFile(
      conf,
      [
        'security.protocol=SASL_SSL',
        'sasl.mechanisms=PLAIN',
        `sasl.username=${cfg.kafkaSaslUsername}`,
        `sasl.password=${password}`,
        `ssl.ca.location=${cfg.kafkaCaFile}`,
        'ssl.endpoint.identification.algorithm=https',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const topic = uniqueName('secure-kcat');
    const line = `kcat-${randomBytes(6).toString('hex')}`;
    const producer = run('kcat', ['-F', conf, '-b', cfg.kafka, '-P', '-t', topic], { timeout: 60_000 });
    producer.child.stdin!.end(line + '\n');
    await producer;
    const { stdout } = await run('kcat', ['-F', conf, '-b', cfg.kafka, '-C', '-t', topic, '-o', 'beginning', '-c', '1', '-q'], { timeout: 60_000 });
    expect(stdout.trim()).toBe(line);
    // Without ca.pem the same client refuses the broker: trust comes from the devstack's CA only.
    const noCa = path.join(tmp, 'kcat-noca.conf');
    await writeFile(noCa, readFileSync(conf, 'utf8').replace(/^ssl\.ca\.location=.*$/m, 'ssl.ca.location=/etc/ssl/certs'), { mode: 0o600 });
    await expect(run('kcat', ['-F', noCa, '-b', cfg.kafka, '-L', '-m', '5'], { timeout: 30_000 })).rejects.toThrow(
      /certificate verify failed|SSL handshake failed|transport failure/i,
    );
  });

  it('refuses plaintext Kafka on the secured port', async () => {
    // Our own probe's plaintext ApiVersions gets no Kafka answer from a TLS listener...
    await expect(
      (async () => {
        const wire = await KafkaWire.connect('127.0.0.1', ds.config.kafkaPort);
        try {
          await wire.apiVersions();
        } finally {
          wire.close();
        }
      })(),
    ).rejects.toThrow();
    // ...and a real client configured for PLAINTEXT gets no metadata.
    await expect(run('kcat', ['-b', ds.kafka, '-L', '-m', '5'], { timeout: 30_000 })).rejects.toThrow(/Failed to acquire metadata|transport failure/i);
  });

  it('keeps every secret out of the broker logs', () => {
    const secrets = ['kafka-client.password', 'kafka-broker.password', 'server-keystore.password'].map((f) =>
      readFileSync(path.join(ds.config.dir, 'secrets', f), 'utf8').trim(),
    );
    const logs = ['server.log', 'console.log'].map((f) => readFileSync(path.join(ds.config.dir, 'kafka', 'secure', 'broker-1', f), 'utf8')).join('\n');
    expect(logs).toContain('SASL_SSL');
    for (const s of secrets) expect(logs.includes(s)).toBe(false);
  });

  it('refuses to serve a plaintext devstack from the same dir while the secured one runs', async () => {
    await expect(up({ ...ds.config, secure: false }, ['kafka'], process.stderr)).rejects.toThrow(
      /runs as 1 broker, secured \(--secure\), but 1 broker, plaintext was asked for/,
    );
  });
});
