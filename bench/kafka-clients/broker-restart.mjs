#!/usr/bin/env node
/**
 * Resilience check, not a speed test: a producer sends keyed messages in a loop and a consumer
 * group reads and commits them, while the operator kills and restarts the broker (this script
 * never touches the broker). At the end it reports how long each side was stuck, what errors
 * the callers saw, and whether every acknowledged message was consumed.
 *
 *   PINTRACE_KAFKA_BROKERS=127.0.0.1:29092 node bench/kafka-clients/broker-restart.mjs <client> <seconds>
 *
 * Only against a throwaway broker of your own.
 */
import { randomBytes } from 'node:crypto';
import { createAdmin, createConsumer, createProducer } from '@pintrace/kafka';

const [client = 'kafkajs', seconds = '40'] = process.argv.slice(2);
const brokers = (process.env.PINTRACE_KAFKA_BROKERS ?? '127.0.0.1:29092').split(',');
const topic = `restart-${client}-${randomBytes(4).toString('hex')}`;
const admin = createAdmin(brokers, { client });
await admin.ensureTopic(topic, 4);

const acked = new Set();
const consumed = new Set();
const errors = {};
let lastAck = Date.now();
let longestProduceGap = 0;
let lastConsume = Date.now();
let longestConsumeGap = 0;

const producer = createProducer({ brokers, client, requestTimeoutMs: 10_000 });
await producer.connect();
const consumer = createConsumer({
  brokers,
  client,
  groupId: `${topic}-g`,
  topics: [topic],
  maxWaitTimeMs: 200,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
});
consumer.onError((e) => (errors[`consumer:${e.code}`] = (errors[`consumer:${e.code}`] ?? 0) + 1));
await consumer.connect();
await consumer.run(async (b) => {
  const now = Date.now();
  longestConsumeGap = Math.max(longestConsumeGap, now - lastConsume);
  lastConsume = now;
  for (const m of b.messages) consumed.add(m.value.toString());
  const last = b.messages[b.messages.length - 1];
  await consumer.commit([{ topic: b.topic, partition: b.partition, offset: String(BigInt(last.offset) + 1n) }]).catch((e) => {
    errors[`commit:${e.code}`] = (errors[`commit:${e.code}`] ?? 0) + 1;
  });
});

const end = Date.now() + Number(seconds) * 1000;
let n = 0;
while (Date.now() < end) {
  const batch = Array.from({ length: 20 }, () => ({ key: randomBytes(8).toString('hex'), value: `m${n++}` }));
  try {
    await producer.send(topic, batch);
    const now = Date.now();
    longestProduceGap = Math.max(longestProduceGap, now - lastAck);
    lastAck = now;
    for (const m of batch) acked.add(m.value);
  } catch (e) {
    errors[`send:${e.code}:retriable=${e.retriable}`] = (errors[`send:${e.code}:retriable=${e.retriable}`] ?? 0) + 1;
    await new Promise((r) => setTimeout(r, 500));
  }
  await new Promise((r) => setTimeout(r, 20));
}
const drainUntil = Date.now() + 60_000;
while ([...acked].some((v) => !consumed.has(v)) && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 250));
const missing = [...acked].filter((v) => !consumed.has(v)).length;
console.log(
  JSON.stringify({
    client,
    acked: acked.size,
    consumed: consumed.size,
    missing,
    longestProduceGapMs: longestProduceGap,
    longestConsumeGapMs: longestConsumeGap,
    errors,
  }),
);
await Promise.all([producer.disconnect(), consumer.disconnect()]);
await admin.close();
process.exit(0);
