/**
 * Fault tests of the collector, with counts:
 *  - malformed messages mixed in: valid spans indexed, rejects counted and dead-lettered, no stall;
 *  - SIGKILL 10 times under load: every span in Elasticsearch exactly once;
 *  - two processes in one group share the partitions and survive one being killed without loss;
 *  - Elasticsearch (a private one, block 1) stopped for 60 s under load: /health 503, no loss,
 *    lag drains afterwards, peak RSS bounded.
 * Span documents have deterministic ids, so "exactly once" is: the document count equals the
 * number of distinct spans sent, and every expected id is there.
 * Run alone: npx vitest run --project integration test/collector-faults.test.ts
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector } from '@pintrace/collector';
import { createAdmin, createProducer, type SpanProducer, type TopicAdmin } from '@pintrace/kafka';
import type { Span } from '@pintrace/model';
import { createLogger } from '@pintrace/runtime';
import { Registry } from 'prom-client';
import { multiServiceTrace } from './collector-fixtures.js';
import { testCollectorConfig } from './support/collector-config.js';
import { freePort, metric } from './support/ports.js';
import { privateDevstack } from './support/private-devstack.js';
import { collectorArgs, FAULT_TIMINGS } from './support/part-args.js';
import { startPart } from './support/processes.js';
import { deleteIndexPrefix, esUrl, eventually, kafkaBrokers, uniqueName } from './support/servers.js';

const log = createLogger('collector-faults-test', { level: process.env.PINTRACE_LOG_LEVEL ?? 'warn' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const peakRssMb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

let admin: TopicAdmin;
let producer: SpanProducer;
const prefixes: Array<{ es: string; prefix: string }> = [];

beforeAll(async () => {
  admin = createAdmin(kafkaBrokers);
  producer = createProducer({ brokers: kafkaBrokers });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await admin?.close();
  for (const { es, prefix } of prefixes) {
    if (es === esUrl) await deleteIndexPrefix(prefix);
  }
});

/** A fresh topic and index prefix, and a sender that remembers how many spans went out. */
async function scenario(name: string, partitions: number, es = esUrl) {
  const topic = uniqueName(`cf-${name}`);
  const prefix = uniqueName(`ptf${name.slice(0, 4)}`);
  prefixes.push({ es, prefix });
  await admin.ensureTopic(topic, partitions);
  let spans = 0;
  const send = async (traces: number) => {
    const batch: Span[][] = Array.from({ length: traces }, () => multiServiceTrace(prefix));
    await producer.send(
      topic,
      batch.map((t) => ({ key: t[0]!.traceId, value: JSON.stringify(t) })),
    );
    spans += batch.reduce((n, t) => n + t.length, 0);
  };
  const args = async (extra: string[] = []) =>
    collectorArgs(
      {
        kafka: kafkaBrokers.join(','),
        es,
        topic,
        groupId: `${topic}-g`,
        indexPrefix: prefix,
        indexReplicas: 0,
        indexShards: 1,
        ...FAULT_TIMINGS,
        metricsPort: await freePort(),
      },
      ...extra,
    );
  const count = async () => {
    const res = await fetch(`${es}/${prefix}-span-*/_refresh?allow_no_indices=true&ignore_unavailable=true`, { method: 'POST' });
    void res.text();
    const body = (await (await fetch(`${es}/${prefix}-span-*/_count?allow_no_indices=true&ignore_unavailable=true`)).json()) as { count?: number };
    return body.count ?? 0;
  };
  /** Waits until the group committed everything on the topic. */
  const drained = () =>
    eventually(
      async () => {
        const [end, committed] = await Promise.all([admin.endOffsets(topic), admin.groupOffsets(`${topic}-g`, topic)]);
        const behind = end.reduce((n, e) => n + Number(e.offset) - Number(committed.find((c) => c.partition === e.partition)?.offset ?? 0), 0);
        return behind === 0 ? true : undefined;
      },
      { what: 'committed offsets at the end of the topic', timeoutMs: 120_000 },
    );
  return { topic, prefix, send, args, count, drained, spans: () => spans };
}

const portOf = (args: string[]) => Number(args[args.indexOf('--metrics-port') + 1]);

describe('collector faults', () => {
  it('indexes the valid spans of a stream with malformed messages, counts and dead-letters the rest, and never stalls', async () => {
    const s = await scenario('malformed', 3);
    const dlq = `${s.topic}-dlq`;
    await admin.ensureTopic(dlq, 1);
    let bad = 0;
    for (let round = 0; round < 10; round++) {
      await s.send(20);
      await producer.send(s.topic, [
        { key: 'x', value: Buffer.from('\u0000\u0001 not zipkin') },
        { key: 'y', value: '{"traceId":"0000000000000001","id":"0000000000000001"}' }, // a bare object, not a list
        { key: 'z', value: '[{"traceId":"0000000000000001","id":' }, // truncated
      ]);
      bad += 3;
    }
    await s.send(20); // after the last poison message: must still be read
    const registry = new Registry();
    const config = testCollectorConfig({ kafka: kafkaBrokers, es: esUrl, topic: s.topic, indexPrefix: s.prefix });
    const collector = await startCollector(config, { log, registry });
    try {
      await eventually(async () => ((await s.count()) >= s.spans() ? true : undefined), { what: `${s.spans()} spans`, timeoutMs: 60_000 });
      await s.drained();
      expect(await s.count()).toBe(s.spans());
      const read = async (name: string) => ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce((n, v) => n + v.value, 0);
      expect(await read('pintrace_collector_messages_undecodable_total')).toBe(bad);
      expect(await read('pintrace_collector_dead_lettered_total')).toBe(bad);
      const dlqEnd = await admin.endOffsets(dlq);
      expect(dlqEnd.reduce((n, e) => n + Number(e.offset), 0)).toBe(bad);
      console.log(JSON.stringify({ test: 'malformed', spans: s.spans(), indexed: await s.count(), malformed: bad, deadLettered: bad }));
    } finally {
      await collector.shutdown();
    }
  });

  it('loses nothing and duplicates nothing when the collector is SIGKILLed 10 times under load', async () => {
    const s = await scenario('kill', 3);
    let producing = true;
    const load = (async () => {
      while (producing) {
        await s.send(25);
        await sleep(100);
      }
    })();
    const kills: Array<{ atSpans: number; rssMb: number }> = [];
    for (let i = 0; i < 10; i++) {
      const before = await s.count();
      const part = startPart(`collector-kill-${i}`, await s.args());
      // Let it join, write a part of what is there (so it is killed mid-stream), then crash it hard.
      await eventually(async () => ((await s.count()) > before ? true : undefined), { what: `progress of run ${i}`, timeoutMs: 60_000, intervalMs: 200 });
      await sleep(300 + (i % 3) * 400);
      kills.push({ atSpans: await s.count(), rssMb: Math.round(peakRssMb(part.child.pid!)) });
      await part.kill();
    }
    producing = false;
    await load;
    const last = startPart('collector-kill-final', await s.args());
    try {
      await eventually(async () => ((await s.count()) >= s.spans() ? true : undefined), { what: `${s.spans()} spans`, timeoutMs: 120_000 });
      await s.drained();
      await sleep(1000);
      expect(await s.count()).toBe(s.spans());
      console.log(JSON.stringify({ test: 'sigkill x10', spans: s.spans(), indexed: await s.count(), kills }));
    } finally {
      await last.stop();
    }
  }, 300_000);

  it('shares the partitions between two processes of one group, and the survivor finishes when one is killed', async () => {
    const s = await scenario('two', 6);
    await s.send(300);
    const aArgs = await s.args();
    const bArgs = await s.args();
    const a = startPart('collector-two-a', aArgs);
    const b = startPart('collector-two-b', bArgs);
    try {
      // Both take part: each commits offsets for its own partitions. The first member to join
      // may drain the first load alone before the second one is assigned, so keep a trickle
      // coming until both have committed.
      const owned = async (args: string[]) => {
        const text = await (await fetch(`http://127.0.0.1:${portOf(args)}/metrics`)).text();
        return [...text.matchAll(/pintrace_collector_committed_offset\{[^}]*partition="(\d+)"[^}]*\} (\d+)/g)].filter((m) => Number(m[2]) > 0).map((m) => m[1]);
      };
      const [pa, pb] = await eventually(
        async () => {
          const both = await Promise.all([owned(aArgs), owned(bArgs)]);
          if (both.every((p) => p.length > 0)) return both;
          await s.send(25);
          return undefined;
        },
        { what: 'both members committing offsets', timeoutMs: 90_000 },
      );
      await s.drained();
      expect(pa.length).toBeGreaterThan(0);
      expect(pb.length).toBeGreaterThan(0);
      // Kill one under load; the other takes its partitions over.
      let producing = true;
      const load = (async () => {
        while (producing) {
          await s.send(25);
          await sleep(100);
        }
      })();
      await sleep(2000);
      await a.kill();
      await sleep(4000);
      producing = false;
      await load;
      await eventually(async () => ((await s.count()) >= s.spans() ? true : undefined), { what: `${s.spans()} spans`, timeoutMs: 120_000 });
      await s.drained();
      expect(await s.count()).toBe(s.spans());
      console.log(JSON.stringify({ test: 'two members, one killed', spans: s.spans(), indexed: await s.count(), partitionsA: pa, partitionsB: pb }));
    } finally {
      await a.kill();
      await b.stop();
    }
  });

  describe('Elasticsearch stopped for 60 s', () => {
    const pd = privateDevstack('collector-faults', 1, ['elasticsearch']);
    beforeAll(async () => {
      await pd.start();
    });
    afterAll(async () => {
      await pd.stop();
    });

    it('reports 503, loses nothing, drains the lag afterwards, with bounded RSS', async () => {
      const s = await scenario('esdown', 3, pd.es);
      const args = await s.args();
      const port = portOf(args);
      const part = startPart('collector-es-outage', args);
      try {
        await s.send(100);
        await eventually(async () => ((await s.count()) >= s.spans() ? true : undefined), { what: 'first spans', timeoutMs: 90_000 });
        let producing = true;
        const load = (async () => {
          while (producing) {
            await s.send(20);
            await sleep(100);
          }
        })();
        await sleep(1000);
        const stoppedAt = Date.now();
        await pd.stop();
        const health = await eventually(
          async () => {
            const res = await fetch(`http://127.0.0.1:${port}/health`);
            return res.status === 503 ? res.status : undefined;
          },
          { what: '/health 503', timeoutMs: 30_000 },
        );
        expect(health).toBe(503);
        await sleep(Math.max(0, 60_000 - (Date.now() - stoppedAt)));
        const [endDown, committedDown] = await Promise.all([admin.endOffsets(s.topic), admin.groupOffsets(`${s.topic}-g`, s.topic)]);
        const behindWhileDown = endDown.reduce(
          (n, e) => n + Number(e.offset) - Math.max(0, Number(committedDown.find((c) => c.partition === e.partition)?.offset ?? 0)),
          0,
        );
        const heldWhileDown = await metric(port, 'pintrace_collector_held_spans');
        // the collector's own lag probe keeps counting while intake is paused (fetch-based lag cannot)
        const probedLagWhileDown = await metric(port, 'pintrace_collector_consumer_lag');
        expect(probedLagWhileDown).toBeGreaterThan(0);
        expect(probedLagWhileDown).toBeLessThanOrEqual(behindWhileDown);
        producing = false;
        await load;
        await pd.start();
        const restartedAt = Date.now();
        await eventually(async () => ((await s.count()) >= s.spans() ? true : undefined), { what: `${s.spans()} spans`, timeoutMs: 150_000, intervalMs: 1000 });
        const catchUpSeconds = (Date.now() - restartedAt) / 1000;
        await s.drained();
        expect(await s.count()).toBe(s.spans());
        await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200 ? true : undefined), { what: '/health 200' });
        const rss = Math.round(peakRssMb(part.child.pid!));
        console.log(
          JSON.stringify({
            test: 'es down 60s',
            spans: s.spans(),
            indexed: await s.count(),
            behindWhileDown,
            probedLagWhileDown,
            heldWhileDown,
            catchUpSeconds,
            peakRssMb: rss,
          }),
        );
        expect(rss).toBeLessThan(400);
      } finally {
        await part.stop();
      }
    });
  });
});
