/**
 * Acceptance (issue 14): on a three-broker cluster, SIGKILL the broker leading the span partitions
 * once during a 1,000,000-line agent run; every span arrives in Kafka. The cluster is a private
 * devstack (block 4: brokers 49092/49094/49096) with the devstack's defaults for new topics:
 * replication factor 3, min.insync.replicas 2, so acks=all writes go on with two brokers.
 *
 * The span topic's leaders are spread over the brokers; the broker leading the most partitions is
 * killed once a third of the lines are acknowledged. The agent's acknowledged-lines counter is
 * sampled every 100 ms to measure the stall; afterwards a fresh consumer counts every sequence
 * number, and the killed broker is started again (`devstack up` starts only the missing one) and
 * must rejoin every partition's ISR. Counts go to test/artifacts/kafka-cluster-faults.json.
 *
 * Then the same during a collector burst: ~40k spans put on a topic at once, a collector process
 * indexing them into the shared Elasticsearch (its own index prefix), the leading broker SIGKILLed
 * once a third is indexed; every span must be in the store exactly once per document id (the
 * collector's ids are deterministic, so: the count equals the spans sent) and the group's
 * committed offsets must reach the end of the topic. Counts go to kafka-cluster-faults-collector.json.
 * Run alone: npx vitest run --project integration test/kafka-cluster-faults.test.ts
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokerPids } from '@pintrace/devstack';
import { createAdmin, createProducer } from '@pintrace/kafka';
import type { Span } from '@pintrace/model';
import { multiServiceTrace } from './collector-fixtures.js';
import { countArrivals, rssMb, seqLines, type ArrivalCounter } from './support/agent-load.js';
import { agentArgs, collectorArgs, FAULT_TIMINGS } from './support/part-args.js';
import { freePort, metric } from './support/ports.js';
import { Progress } from './support/progress.js';
import { privateDevstack } from './support/private-devstack.js';
import { startPart, type RunningPart } from './support/processes.js';
import { deleteIndexPrefix, esUrl, eventually, uniqueName } from './support/servers.js';

const TOTAL = 1_000_000;
const CHUNK = 2000;
const BATCH_LINES = 2000;
const PARTITIONS = 6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Kills the broker leading the most partitions of `topic` (ties: the lowest id); returns it. */
async function killLeader(admin: kafkajs.Admin, topic: string): Promise<{ nodeId: number; ledPartitions: number }> {
  const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions;
  const led = new Map<number, number>();
  for (const p of partitions) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
  const [nodeId, ledPartitions] = [...led.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0]!;
  const victim = kafkaBrokerPids(ds.config.dir).find((b) => b.nodeId === nodeId);
  if (!victim) throw new Error(`no process for broker ${nodeId}`);
  process.kill(victim.pid, 'SIGKILL');
  return { nodeId, ledPartitions };
}
const ds = privateDevstack('kafka-faults', 4, ['kafka'], { kafkaBrokers: 3, heap: '384m', partitions: PARTITIONS });

describe('three-broker Kafka: the leading broker SIGKILLed mid-stream', () => {
  let admin: kafkajs.Admin;
  let agent: RunningPart | undefined;
  let counter: ArrivalCounter | undefined;
  let spansDir: string | undefined;
  beforeAll(async () => {
    await ds.start();
    admin = new kafkajs.Kafka({ brokers: ds.kafka.split(','), logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
  });
  afterAll(async () => {
    await agent?.kill();
    await counter?.stop();
    await admin?.disconnect();
    await ds.stop();
    if (spansDir) rmSync(spansDir, { recursive: true, force: true });
  });

  it('loses no span of a 1,000,000-line agent run, and the killed broker rejoins every ISR after devstack up', async () => {
    const topic = uniqueName('cluster-faults');
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
    const leadersOf = async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions;
    const before = await leadersOf();
    expect(before.every((p) => p.replicas.length === 3)).toBe(true);

    spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-cluster-faults-'));
    const live = path.join(spansDir, 'svc.jsonl');
    writeFileSync(live, '');
    const port = await freePort();
    agent = startPart('cluster-faults-agent', agentArgs({ kafka: ds.kafka, topic, spansDir, metricsPort: port, batchLines: BATCH_LINES, pollIntervalMs: 200 }));
    const a = agent;
    const acked = async () => {
      if (a.child.exitCode !== null) throw new Error(`agent exited with ${a.child.exitCode} (log ${a.logFile})`);
      return metric(port, 'pintrace_agent_lines_total').catch(() => 0);
    };

    // Progress: lines acknowledged, every 100 ms
    const started = Date.now();
    const progress = new Progress(started);
    const stopSampling = progress.sample(acked, () => a.child.pid);

    // About 30 s of writing, so the kill lands mid-stream with lines still to come.
    let written = 0;
    const writing = (async () => {
      while (written < TOTAL) {
        appendFileSync(live, seqLines(written, written + CHUNK));
        written += CHUNK;
        await sleep(50);
      }
    })();

    let kill: { atMs: number; nodeId: number; ledPartitions: number; ackedAtKill: number; writtenAtKill: number } | undefined;
    try {
      await eventually(async () => ((await acked()) >= TOTAL / 3 ? true : undefined), {
        timeoutMs: 180_000,
        intervalMs: 50,
        what: 'a third of the lines acknowledged',
      });
      const ackedAtKill = await acked();
      const { nodeId, ledPartitions } = await killLeader(admin, topic);
      kill = { atMs: Date.now() - started, nodeId, ledPartitions, ackedAtKill, writtenAtKill: written };

      await writing;
      await eventually(async () => ((await acked()) >= TOTAL ? true : undefined), {
        timeoutMs: 300_000,
        intervalMs: 100,
        what: `all ${TOTAL} lines acknowledged`,
      });
    } finally {
      await stopSampling();
    }
    const allAckedMs = Date.now() - started;
    expect(agent.child.exitCode, `the agent kept running (log ${agent.logFile})`).toBeNull();
    const after = await leadersOf();
    expect(after.every((p) => p.leader !== kill!.nodeId)).toBe(true);

    // The longest time after the kill in which the acknowledged count did not move while lines waited.
    const stallMs = progress.longestStallMs(kill!.atMs, TOTAL);

    counter = await countArrivals(ds.kafka.split(','), topic, TOTAL);
    const c = counter;
    await eventually(async () => (c.distinct() >= TOTAL ? true : undefined), {
      timeoutMs: 240_000,
      intervalMs: 250,
      what: `all ${TOTAL} lines in Kafka (have ${c.distinct()})`,
    });
    await sleep(1000);

    // The killed broker comes back on its own data and catches up.
    const t0 = Date.now();
    await ds.start();
    await eventually(async () => ((await leadersOf()).every((p) => p.isr.length === 3) ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: 'the restarted broker back in every ISR',
    });
    const rejoinMs = Date.now() - t0;

    const results = {
      test: 'kafka-cluster-faults',
      date: new Date().toISOString(),
      brokers: 3,
      partitions: PARTITIONS,
      linesWritten: written,
      killedBroker: kill!.nodeId,
      partitionsLedByKilled: kill!.ledPartitions,
      killAtMs: kill!.atMs,
      ackedAtKill: kill!.ackedAtKill,
      writtenAtKill: kill!.writtenAtKill,
      longestStallAfterKillMs: stallMs,
      allAckedAfterMs: allAckedMs,
      distinctArrived: c.distinct(),
      missing: c.missing().length,
      recordsRead: c.records,
      messagesRead: c.messages,
      duplicates: c.duplicates(),
      peakAgentRssMb: progress.peakRssMb,
      restartedBrokerInAllIsrAfterMs: rejoinMs,
    };
    mkdirSync(path.join(process.cwd(), 'test', 'artifacts'), { recursive: true });
    writeFileSync(path.join(process.cwd(), 'test', 'artifacts', 'kafka-cluster-faults.json'), JSON.stringify(results, null, 2) + '\n');
    process.stdout.write(
      `kafka-cluster-faults: ${written} lines; SIGKILL of broker ${kill!.nodeId} (leading ${kill!.ledPartitions}/${PARTITIONS} partitions) at ` +
        `${(kill!.atMs / 1000).toFixed(1)} s with ${kill!.ackedAtKill} acknowledged; longest stall ${(stallMs / 1000).toFixed(1)} s; ` +
        `all acknowledged after ${(allAckedMs / 1000).toFixed(1)} s; arrived ${c.distinct()} distinct, ${results.missing} missing, ` +
        `${c.duplicates()} duplicates; peak agent RSS ${progress.peakRssMb} MB; broker back in every ISR ${(rejoinMs / 1000).toFixed(1)} s after up\n`,
    );
    expect(results.missing).toBe(0);
    expect(kill!.ackedAtKill).toBeLessThan(TOTAL);
  }, 900_000);

  it('indexes every span of a collector burst exactly once when the leading broker is SIGKILLed mid-burst', async () => {
    const brokers = ds.kafka.split(',');
    const topic = uniqueName('cluster-burst');
    const prefix = uniqueName('pcbf');
    const groupId = `${topic}-g`;
    const topicAdmin = createAdmin(brokers);
    const producer = createProducer({ brokers });
    let collector: RunningPart | undefined;
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
      await producer.connect();
      let spans = 0;
      let messages = 0;
      for (let i = 0; i < 50; i++) {
        const batch: Span[][] = Array.from({ length: 100 }, () => multiServiceTrace(prefix));
        await producer.send(
          topic,
          batch.map((t) => ({ key: t[0]!.traceId, value: JSON.stringify(t) })),
        );
        spans += batch.reduce((n, t) => n + t.length, 0);
        messages += batch.length;
      }
      const count = async () => {
        await (await fetch(`${esUrl}/${prefix}-span-*/_refresh?allow_no_indices=true&ignore_unavailable=true`, { method: 'POST' })).text();
        const body = (await (await fetch(`${esUrl}/${prefix}-span-*/_count?allow_no_indices=true&ignore_unavailable=true`)).json()) as { count?: number };
        return body.count ?? 0;
      };
      const metricsPort = await freePort();
      const started = Date.now();
      collector = startPart(
        'cluster-burst-collector',
        collectorArgs({ kafka: ds.kafka, es: esUrl, topic, groupId, indexPrefix: prefix, indexReplicas: 0, indexShards: 1, ...FAULT_TIMINGS, metricsPort }),
      );
      const c = collector;
      const progress = new Progress(started);
      await eventually(
        async () => {
          if (c.child.exitCode !== null) throw new Error(`collector exited with ${c.child.exitCode} (log ${c.logFile})`);
          const n = await count();
          progress.add(n);
          return n >= spans / 3 ? n : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 100, what: 'a third of the burst indexed' },
      );
      const indexedAtKill = await count();
      const killAtMs = Date.now() - started;
      const { nodeId, ledPartitions } = await killLeader(admin, topic);
      await eventually(
        async () => {
          if (c.child.exitCode !== null) throw new Error(`collector exited with ${c.child.exitCode} (log ${c.logFile})`);
          const n = await count();
          progress.add(n);
          return n >= spans ? true : undefined;
        },
        { timeoutMs: 300_000, intervalMs: 100, what: `all ${spans} spans indexed` },
      );
      const allIndexedMs = Date.now() - started;
      await eventually(
        async () => {
          const [end, committed] = await Promise.all([topicAdmin.endOffsets(topic), topicAdmin.groupOffsets(groupId, topic)]);
          const behind = end.reduce((n, e) => n + Number(e.offset) - Number(committed.find((x) => x.partition === e.partition)?.offset ?? 0), 0);
          return behind === 0 ? true : undefined;
        },
        { timeoutMs: 120_000, what: 'committed offsets at the end of the topic' },
      );
      await sleep(1000);
      const indexed = await count();
      const inKafka = (await topicAdmin.endOffsets(topic)).reduce((n, e) => n + Number(e.offset), 0);
      const stallMs = progress.longestStallMs(killAtMs, spans);
      const results = {
        test: 'kafka-cluster-faults-collector',
        date: new Date().toISOString(),
        brokers: 3,
        partitions: PARTITIONS,
        messages,
        messagesInKafka: inKafka,
        spans,
        killedBroker: nodeId,
        partitionsLedByKilled: ledPartitions,
        killAtMs,
        indexedAtKill,
        longestStallAfterKillMs: stallMs,
        allIndexedAfterMs: allIndexedMs,
        indexed,
        collectorPeakRssMb: rssMb(c.child.pid),
      };
      writeFileSync(path.join(process.cwd(), 'test', 'artifacts', 'kafka-cluster-faults-collector.json'), JSON.stringify(results, null, 2) + '\n');
      process.stdout.write(
        `kafka-cluster-faults (collector): ${spans} spans in ${messages} messages; SIGKILL of broker ${nodeId} (leading ${ledPartitions}/${PARTITIONS}) ` +
          `at ${(killAtMs / 1000).toFixed(1)} s with ${indexedAtKill} indexed; longest stall ${(stallMs / 1000).toFixed(1)} s; ` +
          `all indexed after ${(allIndexedMs / 1000).toFixed(1)} s; ${indexed} documents for ${spans} spans; ${inKafka} messages in Kafka\n`,
      );
      expect(inKafka).toBe(messages);
      expect(indexedAtKill).toBeLessThan(spans);
      expect(indexed).toBe(spans);
      expect(c.child.exitCode).toBeNull();
    } finally {
      await collector?.stop();
      await producer.disconnect();
      await topicAdmin.close();
      await deleteIndexPrefix(prefix);
      // Leave the cluster whole for whatever runs next.
      await ds.start();
    }
  }, 900_000);
});
