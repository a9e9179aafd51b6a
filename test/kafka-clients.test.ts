/**
 * @pintrace/kafka against a real broker, once per client library. Brokers come from
 * PINTRACE_KAFKA_BROKERS (default 127.0.0.1:9092); every run uses its own topics and groups.
 * Run alone: npx vitest run --project integration test/kafka-clients.test.ts
 */
import { createHook } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import kafkajs from 'kafkajs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  CLIENT_NAMES,
  createAdmin,
  createConsumer,
  createProducer,
  KafkaClientError,
  type ConsumedBatch,
  type ConsumedMessage,
  type ConsumerOptions,
  type KafkaClientName,
  type SpanConsumer,
  type SpanProducer,
  type TopicPartition,
} from '@pintrace/kafka';

const brokers = (process.env.PINTRACE_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const runId = randomBytes(4).toString('hex');
let seq = 0;
const unique = (what: string): string => `pintrace-test-${what}-${runId}-${++seq}`;

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** PINTRACE_TEST_KAFKA_CLIENTS=kafkajs restricts the run to one client. */
const clients = (process.env.PINTRACE_TEST_KAFKA_CLIENTS?.split(',') ?? [...CLIENT_NAMES]) as KafkaClientName[];

/** The broker may be shared: remove this run's topics at the end (TopicAdmin has no delete on purpose). */
afterAll(async () => {
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.includes(`-${runId}-`));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 10_000 });
  } catch {
    // best effort
  } finally {
    await admin.disconnect();
  }
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each(clients.map((c) => [c]))('%s client', (client: KafkaClientName) => {
  const admin = createAdmin(brokers, { client });
  const open: Array<SpanProducer | SpanConsumer> = [];

  function consumerOpts(topic: string, groupId: string, extra: Partial<ConsumerOptions> = {}): ConsumerOptions {
    return { brokers, client, groupId, topics: [topic], sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500, maxWaitTimeMs: 200, ...extra };
  }

  async function producer(): Promise<SpanProducer> {
    const p = createProducer({ brokers, client, requestTimeoutMs: 20_000 });
    open.push(p);
    await p.connect();
    return p;
  }

  /** A started consumer that records every message it was handed. */
  async function consumer(
    topic: string,
    groupId: string,
    onBatch: (b: ConsumedBatch, c: SpanConsumer) => Promise<void> = async () => undefined,
  ): Promise<{ c: SpanConsumer; got: ConsumedMessage[]; rebalances: TopicPartition[][] }> {
    const c = createConsumer(consumerOpts(topic, groupId));
    open.push(c);
    const got: ConsumedMessage[] = [];
    const rebalances: TopicPartition[][] = [];
    c.onRebalance((a) => rebalances.push(a));
    await c.connect();
    await c.run(async (b) => {
      got.push(...b.messages);
      await onBatch(b, c);
    });
    return { c, got, rebalances };
  }

  const msgs = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => ({ key: `trace-${i % 16}`, value: `${prefix}-${i}` }));

  afterEach(async () => {
    await Promise.all(open.splice(0).map((x) => x.disconnect()));
  });
  afterAll(async () => {
    await admin.close();
  });

  describe('producer', () => {
    it('sends with acks=all and idempotence; keys pick one partition each', async () => {
      const topic = unique('produce');
      await admin.ensureTopic(topic, 4, { 'retention.ms': '3600000' });
      await admin.ensureTopic(topic, 4); // a second call is a no-op
      const p = await producer();
      await p.send(topic, msgs(200));
      await p.send(topic, [{ key: null, value: Buffer.from('no key'), headers: { h: 'v' } }]);
      const ends = await admin.endOffsets(topic);
      expect(ends).toHaveLength(4);
      expect(ends.reduce((s, e) => s + Number(e.offset), 0)).toBe(201);

      const { got } = await consumer(topic, unique('g'));
      await waitFor('201 messages', () => got.length >= 201);
      const partitionsOfKey = new Map<string, Set<number>>();
      for (const m of got) {
        const k = m.key?.toString() ?? '';
        partitionsOfKey.set(k, (partitionsOfKey.get(k) ?? new Set()).add(m.partition));
      }
      for (const [k, ps] of partitionsOfKey) if (k !== '') expect(ps.size, k).toBe(1);
      const noKey = got.find((m) => m.key === null);
      expect(noKey?.value?.toString()).toBe('no key');
      expect(noKey?.headers).toEqual({ h: 'v' });
      expect(Number(noKey?.timestamp)).toBeGreaterThan(Date.now() - 120_000);
    });

    it('keeps every message of concurrent send() calls (no silent idempotence loss)', async () => {
      const topic = unique('concurrent');
      await admin.ensureTopic(topic, 1);
      const p = await producer();
      // Single-message sends in parallel, then batches in parallel.
      await Promise.all(Array.from({ length: 20 }, (_, i) => p.send(topic, [{ key: `k${i}`, value: `single-${i}` }])));
      await Promise.all(Array.from({ length: 4 }, (_, i) => p.send(topic, msgs(300, `batch${i}`))));
      expect(await admin.endOffsets(topic)).toEqual([{ partition: 0, offset: String(20 + 4 * 300) }]);
    });

    it.each(['gzip', 'snappy'] as const)('round-trips %s-compressed batches', async (compression) => {
      const topic = unique(`codec-${compression}`);
      await admin.ensureTopic(topic, 1);
      const p = createProducer({ brokers, client, compression });
      open.push(p);
      await p.connect();
      const sent = msgs(50, compression);
      await p.send(topic, sent);
      const { got } = await consumer(topic, unique('g'));
      await waitFor('50 messages', () => got.length >= 50);
      expect(got.map((m) => m.value?.toString())).toEqual(sent.map((m) => m.value));
    });

    it('auto-creates a missing topic on send by default', async () => {
      const topic = unique('autocreate');
      const p = await producer();
      await p.send(topic, msgs(3));
      // The admin's metadata may not know the new topic's leader yet (a retriable NOT_LEADER).
      let total = -1;
      await waitFor(
        'end offsets of the new topic',
        async () => {
          const ends = await admin.endOffsets(topic).catch((e: unknown) => (e instanceof KafkaClientError && e.retryable ? undefined : Promise.reject(e)));
          total = ends ? ends.reduce((s, e) => s + Number(e.offset), 0) : -1;
          return ends !== undefined;
        },
        10_000,
      );
      expect(total).toBe(3);
    });

    it('fails with KAFKA_UNKNOWN_TOPIC (or a timeout) within the deadline when auto-creation is off', async () => {
      const p = createProducer({ brokers, client, autoCreateTopics: false, requestTimeoutMs: 10_000 });
      open.push(p);
      await p.connect();
      const started = Date.now();
      const err = await p.send(unique('missing'), msgs(1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KafkaClientError);
      expect((err as KafkaClientError).code).toMatch(/KAFKA_UNKNOWN_TOPIC|KAFKA_TIMEOUT/);
      expect(Date.now() - started).toBeLessThan(15_000);
    });

    // The binding closes a client whose connect failed; a second close used to throw out of its callback.
    it.runIf(client === 'librdkafka')('fails connect to an unreachable broker with a retryable error, and can try again', async () => {
      const p = createProducer({ brokers: ['127.0.0.1:1'], client, requestTimeoutMs: 3000 });
      open.push(p);
      for (let i = 0; i < 2; i++) {
        const err = await p.connect().catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'KAFKA_CONNECTION', retryable: true });
      }
    });

    // A part started while Kafka is down (the agent's decider mirror) keeps one admin and retries:
    // the librdkafka admin once failed every call after a failed first one.
    it('admin: a call fails retriably while no broker answers, and later calls succeed once one does', async () => {
      const port = await new Promise<number>((resolve) => {
        const probe = net.createServer().listen(0, '127.0.0.1', () => {
          const p = (probe.address() as net.AddressInfo).port;
          probe.close(() => resolve(p));
        });
      });
      const a = createAdmin([`127.0.0.1:${port}`], { client });
      let proxy: net.Server | undefined;
      try {
        const err = await a.endOffsets(unique('none')).catch((e: unknown) => e);
        expect(err).toMatchObject({ retryable: true });
        // The bootstrap address now forwards to the real broker (which advertises its own address).
        const [host, bport] = brokers[0]!.split(':') as [string, string];
        proxy = net.createServer((inbound) => {
          const outbound = net.connect(Number(bport), host);
          inbound.pipe(outbound).pipe(inbound);
          const close = () => {
            inbound.destroy();
            outbound.destroy();
          };
          inbound.on('error', close);
          outbound.on('error', close);
        });
        await new Promise<void>((resolve) => proxy!.listen(port, '127.0.0.1', resolve));
        const topic = unique('admin-late');
        let done = false;
        const deadline = Date.now() + 40_000;
        while (!done) {
          done = await a.ensureTopic(topic, 1).then(
            () => true,
            (e: unknown) => {
              if (!(e instanceof KafkaClientError && e.retryable) || Date.now() > deadline) throw e;
              return false;
            },
          );
        }
        expect(await a.endOffsets(topic)).toEqual([{ partition: 0, offset: '0' }]);
      } finally {
        await a.close();
        proxy?.close();
      }
    });

    it('refuses send before connect with KAFKA_NOT_CONNECTED', async () => {
      const p = createProducer({ brokers, client });
      await expect(p.send('x', msgs(1))).rejects.toMatchObject({ code: 'KAFKA_NOT_CONNECTED', retryable: false });
    });
  });

  describe('consumer group', () => {
    it('rebalances when a second member joins and when it leaves', async () => {
      const topic = unique('rebalance');
      const groupId = unique('g');
      await admin.ensureTopic(topic, 4);
      const a = await consumer(topic, groupId);
      await waitFor('first member owns 4 partitions', () => a.c.assignment().length === 4);

      const b = await consumer(topic, groupId);
      await waitFor('two members with 2 partitions each', () => a.c.assignment().length === 2 && b.c.assignment().length === 2, 45_000);
      const all = [...a.c.assignment(), ...b.c.assignment()].map((tp) => tp.partition).sort();
      expect(all).toEqual([0, 1, 2, 3]);
      expect(a.rebalances.length).toBeGreaterThanOrEqual(2);

      await b.c.disconnect();
      await waitFor('first member owns 4 partitions again', () => a.c.assignment().length === 4, 45_000);
      expect(b.c.assignment()).toEqual([]);
    });

    it('commits manually only; a restarted member resumes after the last commit', async () => {
      const topic = unique('commit');
      const groupId = unique('g');
      await admin.ensureTopic(topic, 1);
      const p = await producer();
      await p.send(topic, msgs(30));

      // Process everything, but commit only up to offset 10 (as if only that part were durable).
      const first = await consumer(topic, groupId, async (b, c) => {
        const upTo = b.messages.find((m) => m.offset === '9');
        if (upTo) await c.commit([{ topic, partition: 0, offset: '10' }]);
      });
      await waitFor('30 messages', () => first.got.length >= 30);
      await waitFor('commit of 10', async () => (await admin.groupOffsets(groupId, topic))[0]?.offset === '10');
      await first.c.disconnect();
      // No autocommit happened on disconnect either.
      expect(await admin.groupOffsets(groupId, topic)).toEqual([{ partition: 0, offset: '10' }]);

      const second = await consumer(topic, groupId, async (b, c) => {
        const last = b.messages[b.messages.length - 1];
        if (last) await c.commit([{ topic, partition: 0, offset: String(Number(last.offset) + 1) }]);
      });
      await waitFor('20 redelivered messages', () => second.got.length >= 20);
      expect(second.got[0]?.offset).toBe('10');
      expect(second.got[0]?.value?.toString()).toBe('m-10');
      await waitFor('commit of 30', async () => (await admin.groupOffsets(groupId, topic))[0]?.offset === '30');
      expect(await admin.endOffsets(topic)).toEqual([{ partition: 0, offset: '30' }]);
    });

    it('reports -1 for a group that committed nothing', async () => {
      const topic = unique('nocommit');
      await admin.ensureTopic(topic, 2);
      const offs = await admin.groupOffsets(unique('g'), topic);
      expect(offs).toEqual([
        { partition: 0, offset: '-1' },
        { partition: 1, offset: '-1' },
      ]);
    });

    it('pauses and resumes single partitions', async () => {
      const topic = unique('pause');
      const groupId = unique('g');
      await admin.ensureTopic(topic, 2);
      const a = await consumer(topic, groupId);
      await waitFor('assignment', () => a.c.assignment().length === 2);
      a.c.pause([{ topic, partition: 0 }]);
      await sleep(500);

      const p = await producer();
      await p.send(topic, msgs(64));
      const ends = await admin.endOffsets(topic);
      const onP0 = Number(ends.find((e) => e.partition === 0)?.offset);
      const onP1 = Number(ends.find((e) => e.partition === 1)?.offset);
      expect(onP0).toBeGreaterThan(0);
      expect(onP1).toBeGreaterThan(0);

      await waitFor('partition 1 consumed', () => a.got.filter((m) => m.partition === 1).length >= onP1);
      await sleep(1500);
      expect(a.got.filter((m) => m.partition === 0)).toHaveLength(0);

      a.c.resume([{ topic, partition: 0 }]);
      await waitFor('partition 0 consumed after resume', () => a.got.filter((m) => m.partition === 0).length >= onP0);
      expect(a.got).toHaveLength(64);
    });

    // The collector's backpressure pauses every assigned partition while batches are in the
    // handler and resumes them moments later. The binding's KafkaJS-compatible layer lost two of
    // three partitions under this (never delivered again) and re-delivered paused batches.
    it('delivers every message once while all partitions are paused and resumed over and over', async () => {
      const topic = unique('churn');
      await admin.ensureTopic(topic, 3);
      const p = await producer();
      const total = 6000;
      for (let i = 0; i < total; i += 1000)
        await p.send(
          topic,
          msgs(1000, `c${i}`).map((m, j) => ({ key: `k${(i + j) % 97}`, value: m.value })),
        );
      const seen = new Map<number, Set<string>>();
      let duplicates = 0;
      let churning = true;
      const c = createConsumer(consumerOpts(topic, unique('g')));
      open.push(c);
      await c.connect();
      await c.run(async (b) => {
        const s = seen.get(b.partition) ?? new Set<string>();
        seen.set(b.partition, s);
        for (const m of b.messages) {
          if (s.has(m.offset)) duplicates++;
          s.add(m.offset);
        }
        if (churning) {
          const all = c.assignment();
          c.pause(all);
          setTimeout(() => c.resume(all), 20);
        }
        await sleep(5);
      });
      const distinct = () => [...seen.values()].reduce((n, s) => n + s.size, 0);
      await waitFor(`${total} distinct messages`, () => distinct() >= total, 60_000);
      churning = false;
      const ends = await admin.endOffsets(topic);
      for (const e of ends) expect(seen.get(e.partition)?.size ?? 0, `partition ${e.partition}`).toBe(Number(e.offset));
      expect(duplicates).toBe(0);
    });

    it('hands a batch over again when the handler fails (no loss)', async () => {
      const topic = unique('retry');
      await admin.ensureTopic(topic, 1);
      const p = await producer();
      await p.send(topic, msgs(5));
      let failures = 0;
      const seen: string[] = [];
      const c = createConsumer(consumerOpts(topic, unique('g')));
      open.push(c);
      await c.connect();
      await c.run(async (b) => {
        if (failures === 0) {
          failures++;
          throw new Error('sink down');
        }
        seen.push(...b.messages.map((m) => m.offset));
      });
      await waitFor('redelivery', () => seen.includes('4'), 60_000);
      expect(seen.slice(0, 1)).toEqual(['0']);
      expect(new Set(seen).size).toBe(5);
    });
  });
});

// The agent's mode: only failed messages are reported, a send resolves when the producer drained.
describe.runIf(clients.includes('librdkafka'))("librdkafka, deliveryReports 'drain'", () => {
  const admin = createAdmin(brokers, { client: 'kafkajs' });
  const open: SpanProducer[] = [];
  async function producer(extra: { requestTimeoutMs?: number; autoCreateTopics?: boolean } = {}): Promise<SpanProducer> {
    const p = createProducer({ brokers, client: 'librdkafka', deliveryReports: 'drain', requestTimeoutMs: 20_000, ...extra });
    open.push(p);
    await p.connect();
    return p;
  }
  const msgs = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => ({ key: `trace-${i % 16}`, value: `${prefix}-${i}` }));
  afterEach(async () => {
    await Promise.all(open.splice(0).map((x) => x.disconnect()));
  });
  afterAll(async () => {
    await admin.close();
  });

  it('acknowledges sequential and concurrent sends with every message on the broker', async () => {
    const topic = unique('drain');
    await admin.ensureTopic(topic, 4);
    const p = await producer();
    for (let i = 0; i < 5; i++) await p.send(topic, msgs(400, `seq${i}`));
    await Promise.all(Array.from({ length: 20 }, (_, i) => p.send(topic, [{ key: `k${i}`, value: `single-${i}` }])));
    await Promise.all(Array.from({ length: 4 }, (_, i) => p.send(topic, msgs(300, `batch${i}`))));
    const ends = await admin.endOffsets(topic);
    expect(ends.reduce((s, e) => s + Number(e.offset), 0)).toBe(5 * 400 + 20 + 4 * 300);
  });

  it('fails a send when one of its messages is rejected by the broker, and the next send succeeds', async () => {
    const topic = unique('drain-large');
    await admin.ensureTopic(topic, 1, { 'max.message.bytes': '2000' });
    const p = await producer();
    const batch = [...msgs(50, 'ok'), { key: 'big', value: Buffer.alloc(8000, 'x') }, ...msgs(50, 'ok2')];
    const err = await p.send(topic, batch).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaClientError);
    expect((err as KafkaClientError).code).toBe('KAFKA_MESSAGE_TOO_LARGE');
    await p.send(topic, msgs(10, 'after'));
  });

  it('fails with KAFKA_UNKNOWN_TOPIC (or a timeout) within the deadline when auto-creation is off', async () => {
    const p = await producer({ autoCreateTopics: false, requestTimeoutMs: 5000 });
    const started = Date.now();
    const err = await p.send(unique('drain-missing'), msgs(3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaClientError);
    expect((err as KafkaClientError).code).toMatch(/KAFKA_UNKNOWN_TOPIC|KAFKA_TIMEOUT/);
    expect(Date.now() - started).toBeLessThan(12_000);
  });
});

describe('every client on one topic', () => {
  it('puts a key on the same partition (Java-compatible murmur2) and reads each other (snappy)', async () => {
    if (clients.length < 2) return;
    const admin = createAdmin(brokers, { client: 'kafkajs' });
    const topic = unique('cross');
    await admin.ensureTopic(topic, 12); // not a power of two: a wrong hash would show
    const keys = Array.from({ length: 64 }, (_, i) => `${randomBytes(8).toString('hex')}${i}`);
    // Snappy on both sides, so each client also decodes the other's compressed batches.
    const producers = clients.map((client) => createProducer({ brokers, client, compression: 'snappy' }));
    const consumers: SpanConsumer[] = [];
    try {
      for (const [i, p] of producers.entries()) {
        await p.connect();
        await p.send(
          topic,
          keys.map((k) => ({ key: k, value: `${clients[i]}:${k}` })),
        );
      }
      const partitionsByClient = new Map<string, Map<string, number>>();
      for (const client of clients) {
        const c = createConsumer({ brokers, client, groupId: unique('g'), topics: [topic], heartbeatIntervalMs: 500, maxWaitTimeMs: 200 });
        consumers.push(c);
        const got: ConsumedMessage[] = [];
        await c.connect();
        await c.run(async (b) => {
          got.push(...b.messages);
        });
        await waitFor(`${client} reads all`, () => got.length >= keys.length * clients.length);
        for (const m of got) {
          const [producedBy] = (m.value?.toString() ?? '').split(':');
          const map = partitionsByClient.get(producedBy ?? '') ?? new Map<string, number>();
          map.set(m.key?.toString() ?? '', m.partition);
          partitionsByClient.set(producedBy ?? '', map);
        }
      }
      const [a, ...others] = [...partitionsByClient.values()];
      expect(partitionsByClient.size).toBe(clients.length);
      expect(a?.size).toBe(keys.length);
      for (const b of others) expect(b).toEqual(a);
    } finally {
      await Promise.all([...producers, ...consumers].map((x) => x.disconnect()));
      await admin.close();
    }
  });
});

describe.runIf(clients.includes('kafkajs'))('kafkajs, an idle connection', () => {
  it('arms no timer while nothing waits (kafkajs 2.2.4 re-armed one every millisecond)', async () => {
    const topic = unique('idle');
    const admin = createAdmin(brokers, { client: 'kafkajs' });
    let timers = 0;
    const hook = createHook({
      init: (_id, type) => {
        if (type === 'Timeout') timers++;
      },
    });
    try {
      await admin.ensureTopic(topic, 1);
      await admin.endOffsets(topic);
      await sleep(200);
      hook.enable();
      await sleep(2000);
      hook.disable();
      // the sleep's own timer, and any of the test runner's
      expect(timers).toBeLessThan(20);
      expect((await admin.endOffsets(topic)).map((e) => e.offset)).toEqual(['0']);
    } finally {
      hook.disable();
      await admin.close();
    }
  });
});
