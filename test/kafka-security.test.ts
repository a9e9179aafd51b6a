/**
 * @pintrace/kafka against a REAL secured broker: the devstack's `--secure` Kafka 4.1.1 (SASL_SSL
 * listener, PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512 users, certificates of the devstack's own CA,
 * client certificates requested), started privately on 31092/31093 so the shared devstack keeps
 * serving every other test. Every client kept (librdkafka, kafkajs) produces, consumes and
 * administers over each mechanism; a wrong password, a wrong CA and plaintext to the TLS port fail
 * fast with KAFKA_AUTHENTICATION and a message naming the setting, never the secret.
 * Run alone: npx vitest run --project integration test/kafka-security.test.ts
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devstackOptions, down, readClientConfig, up, type DevstackConfig } from '@pintrace/devstack';
import {
  CLIENT_NAMES,
  createAdmin,
  createConsumer,
  createProducer,
  KafkaClientError,
  type ConsumedMessage,
  type KafkaClientName,
  type SpanConsumer,
  type SpanProducer,
  type TopicAdmin,
} from '@pintrace/kafka';
import { resolveConfig, type KafkaSaslMechanism, type KafkaSecurity } from '@pintrace/runtime';
import { selfSignedCert } from './support/self-signed.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const clients = (process.env.PINTRACE_TEST_KAFKA_CLIENTS?.split(',') ?? [...CLIENT_NAMES]) as KafkaClientName[];
const runId = randomBytes(4).toString('hex');
let seq = 0;
const unique = (what: string): string => `pintrace-sec-${what}-${runId}-${++seq}`;

const config: DevstackConfig = resolveConfig(devstackOptions, {
  env: {},
  flags: {
    dir: path.join(repoRoot, 'var', 'devstack-kafka-security'),
    kafkaPort: 31092,
    kafkaControllerPort: 31093,
    esPort: 31200,
    esTransportPort: 31300,
    zipkinPort: 31411,
    secure: true,
    heap: '384m',
  },
});
let brokers: string[];
let password: string;
let caFile: string;
let tmp: string;
let otherCaFile: string;
let clientCert: string;
let clientKey: string;

beforeAll(async () => {
  await up(config, ['kafka'], process.stderr);
  const cfg = await readClientConfig(config.dir);
  brokers = String(cfg.kafka).split(',');
  password = readFileSync(String(cfg.kafkaSaslPasswordFile), 'utf8').trim();
  caFile = String(cfg.kafkaCaFile);
  clientCert = path.join(path.dirname(caFile), 'client.pem');
  clientKey = path.join(path.dirname(caFile), 'client-key.pem');
  // A CA that signed nothing the broker serves: the "wrong --kafka-ca-file" case.
  tmp = await mkdtemp(path.join(os.tmpdir(), 'pintrace-kafka-sec-'));
  otherCaFile = selfSignedCert(tmp, 'other-ca', '/CN=not the devstack CA').cert;
}, 300_000);

afterAll(async () => {
  await down(config, ['kafka'], process.stderr);
  if (tmp) await rm(tmp, { recursive: true, force: true });
}, 120_000);

function security(mechanism: KafkaSaslMechanism, extra: { password?: string; caFile?: string; mtls?: boolean } = {}): KafkaSecurity {
  return {
    protocol: 'SASL_SSL',
    sasl: { mechanism, username: 'pintrace', password: extra.password ?? password },
    tls: {
      caFile: extra.caFile ?? caFile,
      verifyHostname: true,
      ...(extra.mtls ? { certFile: clientCert, keyFile: clientKey } : {}),
    },
  };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `attempt`, expects KAFKA_AUTHENTICATION within `withinMs`, a message naming `flag`, and no secret in it. */
async function expectRefused(attempt: () => Promise<unknown>, flag: RegExp, secret: string, withinMs = 15_000): Promise<KafkaClientError> {
  const started = Date.now();
  const err = await attempt().then(
    () => undefined,
    (e: unknown) => e,
  );
  const took = Date.now() - started;
  expect(err, 'the attempt should have failed').toBeInstanceOf(KafkaClientError);
  const e = err as KafkaClientError;
  expect({ code: e.code, retryable: e.retryable }).toEqual({ code: 'KAFKA_AUTHENTICATION', retryable: false });
  expect(e.message).toMatch(flag);
  expect(took).toBeLessThan(withinMs);
  for (const text of [e.message, String(e.stack), JSON.stringify(e), String((e.cause as Error | undefined)?.message ?? '')]) expect(text).not.toContain(secret);
  return e;
}

describe.each(clients.map((c) => [c]))('%s over SASL_SSL', (client: KafkaClientName) => {
  const open: Array<SpanProducer | SpanConsumer | TopicAdmin> = [];
  afterAll(async () => {
    await Promise.all(open.splice(0).map((x) => ('close' in x ? x.close() : x.disconnect())));
  });

  it.each(['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'] as const)('produces, consumes, commits and reads offsets with %s', async (mechanism) => {
    const sec = security(mechanism);
    const admin = createAdmin(brokers, { client, security: sec });
    open.push(admin);
    const topic = unique(mechanism.toLowerCase());
    await admin.ensureTopic(topic, 2);
    const p = createProducer({ brokers, client, security: sec, requestTimeoutMs: 20_000 });
    open.push(p);
    await p.connect();
    await p.send(
      topic,
      Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: `${mechanism}-${i}` })),
    );
    expect((await admin.endOffsets(topic)).reduce((n, e) => n + Number(e.offset), 0)).toBe(50);

    const groupId = unique('g');
    const c = createConsumer({
      brokers,
      client,
      security: sec,
      groupId,
      topics: [topic],
      maxWaitTimeMs: 200,
      heartbeatIntervalMs: 500,
      sessionTimeoutMs: 10_000,
    });
    open.push(c);
    const got: ConsumedMessage[] = [];
    await c.connect();
    await c.run(async (b) => {
      got.push(...b.messages);
      const last = b.messages[b.messages.length - 1]!;
      await c.commit([{ topic: b.topic, partition: b.partition, offset: String(Number(last.offset) + 1) }]);
    });
    await waitFor('50 messages', () => got.length >= 50);
    expect(new Set(got.map((m) => m.value?.toString())).size).toBe(50);
    const committed = async () => (await admin.groupOffsets(groupId, topic)).reduce((n, o) => n + Number(o.offset), 0);
    const deadline = Date.now() + 15_000;
    while ((await committed()) !== 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await committed()).toBe(50);
  });

  it('works with a client certificate (mutual TLS) as well', async () => {
    const sec = security('SCRAM-SHA-512', { mtls: true });
    const p = createProducer({ brokers, client, security: sec, requestTimeoutMs: 20_000 });
    open.push(p);
    await p.connect();
    await p.send(unique('mtls'), [{ key: 'k', value: 'v' }]);
  });

  it('fails fast on a wrong password, naming the settings and not the password', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const sec = security('SCRAM-SHA-512', { password: wrong });
    const p = createProducer({ brokers, client, security: sec, requestTimeoutMs: 20_000 });
    open.push(p);
    await expectRefused(() => p.connect(), /--kafka-sasl-password|SASL|authentication/i, wrong);
    const c = createConsumer({ brokers, client, security: sec, groupId: unique('g'), topics: [unique('t')] });
    open.push(c);
    await expectRefused(() => c.connect(), /--kafka-sasl-password|SASL|authentication/i, wrong);
    const a = createAdmin(brokers, { client, security: sec });
    open.push(a);
    await expectRefused(() => a.endOffsets(unique('t')), /--kafka-sasl-password|SASL|authentication/i, wrong);
  });

  it("fails fast when the CA file is not the one that signed the brokers' certificates", async () => {
    const sec = security('SCRAM-SHA-512', { caFile: otherCaFile });
    const p = createProducer({ brokers, client, security: sec, requestTimeoutMs: 20_000 });
    open.push(p);
    const e = await expectRefused(() => p.connect(), /kafka-ca-file|certificate/i, password);
    expect(e.message).toMatch(/--kafka-ca-file/);
    const a = createAdmin(brokers, { client, security: sec });
    open.push(a);
    await expectRefused(() => a.endOffsets(unique('t')), /kafka-ca-file|certificate/i, password);
  });
});

describe.runIf(clients.includes('librdkafka'))('librdkafka, a client that was refused', () => {
  it('leaves no thread behind once closed, and closing does not block the event loop', async () => {
    // librdkafka runs each client on threads of its own: a client left open keeps them, and keeps
    // reconnecting with the refused password (and logging it) for as long as the process lives
    const threads = () => readdirSync('/proc/self/task').length;
    const before = threads();
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const a = createAdmin(brokers, { client: 'librdkafka', security: security('SCRAM-SHA-512', { password: wrong }) });
    await expectRefused(() => a.endOffsets(unique('t')), /--kafka-sasl-password|SASL|authentication/i, wrong);
    const open = threads();
    expect(open).toBeGreaterThan(before);
    // the longest wait between ticks of a 20 ms timer while the client closes
    let last = Date.now();
    let longest = 0;
    const tick = setInterval(() => {
      longest = Math.max(longest, Date.now() - last);
      last = Date.now();
    }, 20);
    try {
      await a.close();
    } finally {
      clearInterval(tick);
    }
    // a loop blocked to the end never ticked: the last wait counts too
    longest = Math.max(longest, Date.now() - last);
    expect(longest, 'the event loop stalled while the client closed (ms)').toBeLessThan(1000);
    expect(threads(), `threads: ${before} before the client, ${open} with it`).toBeLessThanOrEqual(before);
  });
});

describe.runIf(clients.includes('librdkafka'))('librdkafka, wrong security protocol', () => {
  it('fails fast when plaintext is spoken to the TLS listener', async () => {
    const p = createProducer({
      brokers,
      client: 'librdkafka',
      security: { protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'SCRAM-SHA-512', username: 'pintrace', password } },
      requestTimeoutMs: 20_000,
    });
    try {
      await expectRefused(() => p.connect(), /--kafka-security-protocol/, password, 20_000);
    } finally {
      await p.disconnect();
    }
  });
});
