/**
 * The collector against real servers: JSON-list messages on a Kafka topic (with a malformed
 * message and a list holding one bad span) end up in Elasticsearch exactly once, with the `_id`s
 * zipkin-server would give them, across a stop and restart of the collector in mid-stream.
 * Run alone: npx vitest run --project integration test/collector-es.test.ts
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startCollector, collectorOptions, type Collector, type CollectorConfig } from '@pintrace/collector';
import { checkSpan, type Span } from '@pintrace/model';
import { createLogger, resolveConfig } from '@pintrace/runtime';
import { encodeSpanDocument, spanIndexTimestamp } from '@pintrace/storage';
import { topicAndProducer } from './support/kafka-topic.js';
import { zipkinStyleTrace } from './support/fixtures.js';
import { Registry } from 'prom-client';
import { metric } from './support/ports.js';
import { deleteIndexPrefix, esUrl, eventually, kafkaBrokers, searchAll, uniqueName, zipkinUrl } from './support/servers.js';

const topic = uniqueName('collector-es');
const groupId = `${topic}-group`;
const prefix = uniqueName('ptc');
const log = createLogger('collector-es-test', { level: process.env.PINTRACE_LOG_LEVEL ?? 'warn' });

const config: CollectorConfig = {
  ...resolveConfig(collectorOptions, { env: {} }),
  kafka: kafkaBrokers,
  es: esUrl,
  topic,
  groupId,
  indexPrefix: prefix,
  indexShards: 1,
  indexReplicas: 0,
  metricsPort: 0,
  batchSize: 40,
  batchTimeMs: 50,
};

/** The `_index` and `_id` zipkin-server would write for a span as the tracer sent it. */
function expectedDoc(raw: Span): { index: string; id: string } {
  const checked = checkSpan(raw);
  if (!checked.ok) throw new Error(`fixture span is invalid: ${checked.message}`);
  const day = new Date(spanIndexTimestamp(checked.span)).toISOString().slice(0, 10);
  return { index: `${prefix}-span-${day}`, id: encodeSpanDocument(checked.span).id };
}

/** Counters of one collector run, read from its registry (also after it stopped). */
async function countersOf(registry: Registry) {
  const read = async (name: string) => {
    const m = registry.getSingleMetric(name);
    return m ? (await m.get()).values.reduce((sum, v) => sum + v.value, 0) : 0;
  };
  return {
    undecodable: await read('pintrace_collector_messages_undecodable_total'),
    rejected: await read('pintrace_collector_spans_rejected_total'),
    written: await read('pintrace_collector_spans_written_total'),
  };
}

const docsOfPrefix = () => searchAll<Record<string, unknown>>(`${prefix}-span-*`);

describe('collector: Kafka → Elasticsearch in Zipkin format', () => {
  const kafka = topicAndProducer(topic, 3);
  let collector: Collector | undefined;
  const expected = new Map<string, string>(); // _id → _index

  const send = async (traces: Span[][]) => {
    await kafka.producer.send(
      topic,
      traces.map((t) => ({ key: t[0].traceId, value: JSON.stringify(t) })),
    );
    for (const t of traces)
      for (const s of t) {
        const doc = expectedDoc(s);
        expected.set(doc.id, doc.index);
      }
  };

  afterAll(async () => {
    await collector?.shutdown();
    await deleteIndexPrefix(prefix);
  });

  it("writes every valid span exactly once with zipkin-server's _id, skipping bad input, across a restart", async () => {
    // First half, including poison: a message that is not a list and a list with one bad span.
    const first = Array.from({ length: 60 }, () => zipkinStyleTrace());
    await send(first.slice(0, 30));
    const withBad = zipkinStyleTrace();
    await kafka.producer.send(topic, [
      { key: 'garbage', value: Buffer.from('\u0000\u0001 definitely not zipkin') },
      { key: withBad[0].traceId, value: JSON.stringify([...withBad.slice(0, 2), { traceId: 'NOT-HEX', id: '1' }, ...withBad.slice(2)]) },
    ]);
    for (const s of withBad) {
      const doc = expectedDoc(s);
      expected.set(doc.id, doc.index);
    }
    await send(first.slice(30));

    const firstRegistry = new Registry();
    collector = await startCollector(config, { log, registry: firstRegistry });
    // Stop in mid-stream: once some, not necessarily all, spans are stored.
    await eventually(async () => ((await docsOfPrefix()).length > 0 ? true : undefined), { what: 'first documents' });
    // The second half goes in while the collector drains and while none runs; a new member of
    // the same group picks up where the first one committed.
    const second = Array.from({ length: 60 }, () => zipkinStyleTrace());
    const producing = (async () => {
      for (let i = 0; i < second.length; i += 5) {
        await send(second.slice(i, i + 5));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, 30));
    await collector.shutdown();
    collector = undefined;
    await producing;
    const firstRun = await countersOf(firstRegistry);
    expect(firstRun.written).toBeGreaterThan(0);
    const secondRegistry = new Registry();
    collector = await startCollector(config, { log, registry: secondRegistry });

    const hits = await eventually(
      async () => {
        const h = await docsOfPrefix();
        return h.length >= expected.size ? h : undefined;
      },
      { what: `${expected.size} span documents`, timeoutMs: 90_000 },
    );
    expect(hits).toHaveLength(expected.size);
    expect(Object.fromEntries(hits.map((h) => [h._id, h._index]))).toEqual(Object.fromEntries(expected));

    // The oracle: zipkin-server's own collector gives the same spans the same _ids and days.
    const posted = await fetch(`${zipkinUrl}/api/v2/spans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(withBad) });
    expect(posted.status).toBe(202);
    const theirs = await eventually(
      async () => {
        const h = await searchAll<Record<string, unknown>>('zipkin-span-*', { term: { traceId: withBad[0].traceId } });
        return h.length >= withBad.length ? h : undefined;
      },
      { what: "zipkin-server's documents" },
    );
    const ours = hits.filter((h) => h._source.traceId === withBad[0].traceId);
    const idAndDay = (h: { _id: string; _index: string }) => `${h._id}@${h._index.slice(h._index.lastIndexOf('-span-'))}`;
    expect(ours.map(idAndDay).sort()).toEqual(theirs.map(idAndDay).sort());

    // The group's committed offsets reach the end of every partition.
    await eventually(
      async () => {
        const [end, committed] = await Promise.all([kafka.admin.endOffsets(topic), kafka.admin.groupOffsets(groupId, topic)]);
        const at = new Map(committed.map((c) => [c.partition, c.offset]));
        return end.every((e) => at.get(e.partition) === e.offset) ? true : undefined;
      },
      { what: 'committed offsets at the end of the topic' },
    );

    // The malformed message and the bad span were each counted once, by whichever run read them.
    const secondRun = await countersOf(secondRegistry);
    // /metrics serves the same registry.
    expect(await metric(collector.metricsPort, 'pintrace_collector_spans_written_total')).toBe(secondRun.written);
    expect(firstRun.undecodable + secondRun.undecodable).toBe(1);
    expect(firstRun.rejected + secondRun.rejected).toBe(1);
    expect(secondRun.written).toBeGreaterThan(0);
    expect(firstRun.written + secondRun.written).toBe(expected.size); // nothing written twice
  });
});
