#!/usr/bin/env node
/**
 * Produce and consume throughput of the two Kafka clients behind @pintrace/kafka, on the same data
 * against the same broker. Each (client, scenario, run) is a fresh child process, so JIT state and
 * heap of one client never help or hurt the other; runs alternate between the clients.
 *
 *   npx tsc -b && node bench/kafka-clients/run.mjs [--runs 3] [--quick]
 *
 * Brokers: PINTRACE_KAFKA_BROKERS (default 127.0.0.1:9092). Writes results.json beside this file.
 * Produce: idempotent, acks=all, `batch` messages per send(), `inflight` sends at a time.
 * Consume: a new group reads the topic from the beginning and commits after every batch (as the
 * collector does after a durable write); timed from run() to the last message, join included.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const brokers = (process.env.PINTRACE_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const self = fileURLToPath(import.meta.url);

/** Scenarios: 300-byte single spans as kcat or a naive agent would send; ~4 KB JSON lists as our agent sends. */
const scenarios = {
  'span-300B': { messages: 100_000, spansPerMessage: 1, batch: 500, inflight: 1 },
  'span-300B-inflight4': { messages: 100_000, spansPerMessage: 1, batch: 500, inflight: 4 },
  'list-4KB': { messages: 20_000, spansPerMessage: 12, batch: 50, inflight: 1 },
  'list-4KB-inflight4': { messages: 20_000, spansPerMessage: 12, batch: 50, inflight: 4 },
};

const hex = (n) => randomBytes(n).toString('hex');

/** A Zipkin v2 span as our tracer writes it (about 330 bytes of JSON). */
function span(traceId, i) {
  return {
    traceId,
    id: hex(8),
    parentId: i === 0 ? undefined : hex(8),
    kind: 'SERVER',
    name: 'get /v3/pins/{id}',
    timestamp: 1_760_000_000_000_000 + i * 1000,
    duration: 12_345 + i,
    localEndpoint: { serviceName: 'api', ipv4: '10.1.2.3', port: 8080 },
    remoteEndpoint: { serviceName: 'webapp', ipv4: '10.1.2.4' },
    tags: { 'http.method': 'GET', 'http.path': `/v3/pins/${1000 + i}/`, 'http.status_code': '200' },
  };
}

function makeMessages(n, spansPerMessage) {
  const out = new Array(n);
  for (let m = 0; m < n; m++) {
    const traceId = hex(8);
    const value =
      spansPerMessage === 1 ? JSON.stringify(span(traceId, 0)) : JSON.stringify(Array.from({ length: spansPerMessage }, (_, i) => span(traceId, i)));
    out[m] = { key: traceId, value: Buffer.from(value) };
  }
  return out;
}

async function worker(client, scenarioName) {
  const kafka = await import('@pintrace/kafka');
  const sc = scenarios[scenarioName];
  const messages = makeMessages(sc.messages, sc.spansPerMessage);
  const bytes = messages.reduce((s, m) => s + m.value.length, 0);
  const topic = `bench-${client}-${scenarioName}-${hex(4)}`;
  const admin = kafka.createAdmin(brokers, { client });
  await admin.ensureTopic(topic, 4);

  const producer = kafka.createProducer({ brokers, client, requestTimeoutMs: 60_000 });
  await producer.connect();
  // Warm-up: one send to another topic, so the timed part does not pay connection setup.
  await producer.send(`${topic}-warm`, messages.slice(0, sc.batch));

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const cpu0 = process.cpuUsage();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: sc.inflight }, async () => {
      while (next < messages.length) {
        const from = next;
        next += sc.batch;
        await producer.send(topic, messages.slice(from, from + sc.batch));
      }
    }),
  );
  const produceMs = performance.now() - t0;
  const produceCpu = process.cpuUsage(cpu0);
  await producer.disconnect();
  const ends = await admin.endOffsets(topic);
  const onBroker = ends.reduce((s, e) => s + Number(e.offset), 0);

  const consumer = kafka.createConsumer({ brokers, client, groupId: `${topic}-g`, topics: [topic], maxWaitTimeMs: 100 });
  let got = 0;
  let gotBytes = 0;
  let firstAt = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  const cpu1 = process.cpuUsage();
  const t1 = performance.now();
  await consumer.connect();
  await consumer.run(async (b) => {
    if (firstAt === 0) firstAt = performance.now();
    got += b.messages.length;
    for (const m of b.messages) gotBytes += m.value?.length ?? 0;
    const last = b.messages[b.messages.length - 1];
    await consumer.commit([{ topic: b.topic, partition: b.partition, offset: String(BigInt(last.offset) + 1n) }]);
    if (got >= messages.length) done();
  });
  const timeout = setTimeout(() => done(), 180_000);
  await finished;
  clearTimeout(timeout);
  const consumeMs = performance.now() - t1;
  const steadyMs = performance.now() - firstAt;
  const consumeCpu = process.cpuUsage(cpu1);
  clearInterval(sampler);
  await consumer.disconnect();
  await admin.close();
  await dropTopics([topic, `${topic}-warm`]);

  const cpuMs = (c) => Math.round((c.user + c.system) / 1000);
  return {
    client,
    scenario: scenarioName,
    messages: messages.length,
    bytes,
    onBroker,
    consumed: got,
    consumedBytes: gotBytes,
    produceMs: Math.round(produceMs),
    produceMsgPerSec: Math.round(messages.length / (produceMs / 1000)),
    produceMBPerSec: +(bytes / 1e6 / (produceMs / 1000)).toFixed(1),
    produceCpuMs: cpuMs(produceCpu),
    consumeMs: Math.round(consumeMs),
    consumeMsgPerSec: Math.round(got / (consumeMs / 1000)),
    consumeSteadyMsgPerSec: Math.round(got / (steadyMs / 1000)),
    consumeMBPerSec: +(gotBytes / 1e6 / (consumeMs / 1000)).toFixed(1),
    consumeCpuMs: cpuMs(consumeCpu),
    peakRssMB: Math.round(peakRss / 1e6),
  };
}

/** Bench topics are throwaway; TopicAdmin has no delete on purpose, so use kafkajs directly. */
async function dropTopics(topics) {
  const { default: kafkajs } = await import('kafkajs');
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch {
    // best effort
  } finally {
    await admin.disconnect();
  }
}

function runChild(client, scenario) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self, '--worker', client, scenario], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PINTRACE_LOG_LEVEL: process.env.PINTRACE_LOG_LEVEL ?? 'error' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)));
      else reject(new Error(`${client} ${scenario} exited ${code}: ${out.slice(-2000)}`));
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--worker') {
    const r = await worker(args[1], args[2]);
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    process.exit(0);
  }
  const runs = Number(args[args.indexOf('--runs') + 1]) || 3;
  const names = args.includes('--quick') ? ['span-300B', 'list-4KB'] : Object.keys(scenarios);
  // The clients kept behind @pintrace/kafka (docs/decisions.md, D6); @platformatic/kafka was removed.
  const clients = ['librdkafka', 'kafkajs'];
  const all = [];
  for (const scenario of names) {
    for (let run = 0; run < runs; run++) {
      // Alternate which client goes first, so drift on the box (page cache, other load) is shared.
      for (const client of run % 2 === 0 ? clients : [...clients].reverse()) {
        const r = await runChild(client, scenario);
        all.push({ ...r, run });
        process.stderr.write(`${scenario} run ${run} ${client}: produce ${r.produceMsgPerSec} msg/s, consume ${r.consumeMsgPerSec} msg/s\n`);
      }
    }
  }
  const summary = [];
  for (const scenario of names) {
    for (const client of clients) {
      const rs = all.filter((r) => r.scenario === scenario && r.client === client);
      summary.push({
        scenario,
        client,
        runs: rs.length,
        produceMsgPerSec: median(rs.map((r) => r.produceMsgPerSec)),
        produceMBPerSec: median(rs.map((r) => r.produceMBPerSec)),
        produceCpuMs: median(rs.map((r) => r.produceCpuMs)),
        consumeMsgPerSec: median(rs.map((r) => r.consumeMsgPerSec)),
        consumeSteadyMsgPerSec: median(rs.map((r) => r.consumeSteadyMsgPerSec)),
        consumeMBPerSec: median(rs.map((r) => r.consumeMBPerSec)),
        consumeCpuMs: median(rs.map((r) => r.consumeCpuMs)),
        peakRssMB: median(rs.map((r) => r.peakRssMB)),
        allDelivered: rs.every((r) => r.onBroker === r.messages && r.consumed === r.messages),
      });
    }
  }
  console.table(
    summary.map((s) => ({
      scenario: s.scenario,
      client: s.client,
      'produce msg/s': s.produceMsgPerSec,
      'produce MB/s': s.produceMBPerSec,
      'produce cpu ms': s.produceCpuMs,
      'consume msg/s': s.consumeMsgPerSec,
      'consume MB/s': s.consumeMBPerSec,
      'consume cpu ms': s.consumeCpuMs,
      'peak rss MB': s.peakRssMB,
      'all delivered': s.allDelivered,
    })),
  );
  const out = fileURLToPath(new URL('./results.json', import.meta.url));
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        host: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGB: Math.round(os.totalmem() / 1e9), loadavgAtEnd: os.loadavg() },
        brokers,
        scenarios,
        summary,
        runs: all,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results: ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
