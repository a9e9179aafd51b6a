import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Span } from '@pintrace/model';
import { zipkinStyleTrace } from './support/fixtures.js';
import { agentArgs, collectorArgs } from './support/part-args.js';
import { freePort, metric } from './support/ports.js';
import { startPart, type RunningPart } from './support/processes.js';
import { countDocs, deleteIndices, esUrl, eventually, kafkaBrokers, searchAll, uniqueName, zipkinUrl, type EsHit } from './support/servers.js';

/**
 * The walking skeleton, hop by hop with real servers: span file → agent → Kafka → collector →
 * Elasticsearch, compared with what zipkin-server itself writes for the same spans.
 */
describe('span file → agent → Kafka → collector → Elasticsearch', () => {
  const topic = uniqueName('pipeline');
  const prefix = uniqueName('pt');
  const spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-spans-'));
  const stateDir = mkdtempSync(path.join(tmpdir(), 'pintrace-agent-state-'));
  const spanFile = path.join(spansDir, 'parity.jsonl');
  let agentPort = 0;
  let collectorPort = 0;
  let agent: RunningPart;
  let collector: RunningPart;

  const startAgent = () => startPart('agent', agentArgs({ kafka: kafkaBrokers.join(','), topic, spansDir, stateDir, metricsPort: agentPort }));
  const startCollector = () =>
    startPart(
      'collector',
      collectorArgs({ kafka: kafkaBrokers.join(','), es: esUrl, topic, groupId: `${topic}-collector`, indexPrefix: prefix, metricsPort: collectorPort }),
    );
  const writeSpans = (spans: Span[]) => appendFileSync(spanFile, spans.map((s) => JSON.stringify(s) + '\n').join(''));
  const docsOf = (indexPrefix: string, traceIds: string[]) => searchAll<Record<string, unknown>>(`${indexPrefix}-span-*`, { terms: { traceId: traceIds } });

  beforeAll(async () => {
    agentPort = await freePort();
    collectorPort = await freePort();
    collector = startCollector();
    agent = startAgent();
  });

  afterAll(async () => {
    await Promise.all([agent?.stop(), collector?.stop()]);
    await deleteIndices(`${prefix}-*`);
  });

  it('writes exactly the documents zipkin-server writes for the same spans (same _id, same _source)', async () => {
    const traces = [zipkinStyleTrace({ raw: true }), zipkinStyleTrace({ traceIdBytes: 8 }), zipkinStyleTrace()];
    const spans = traces.flat();
    const traceIds = traces.map((t) => t[0].traceId);
    writeSpans(spans);
    // The oracle: zipkin-server's own HTTP collector writing into its default `zipkin` indices.
    const posted = await fetch(`${zipkinUrl}/api/v2/spans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spans) });
    expect(posted.status).toBe(202);

    const ours = await eventually(
      async () => {
        const hits = await docsOf(prefix, traceIds);
        return hits.length >= spans.length ? hits : undefined;
      },
      { what: `our ${spans.length} span documents` },
    );
    const theirs = await eventually(
      async () => {
        const hits = await docsOf('zipkin', traceIds);
        return hits.length >= spans.length ? hits : undefined;
      },
      { what: 'zipkin-server documents' },
    );

    const byId = (hits: EsHit<Record<string, unknown>>[]) =>
      Object.fromEntries(hits.map((h) => [h._id, { index: h._index.replace(/^[^-]+-/, ''), source: h._source }]));
    expect(Object.keys(byId(ours)).sort()).toEqual(Object.keys(byId(theirs)).sort());
    expect(byId(ours)).toEqual(byId(theirs));
    expect(ours).toHaveLength(spans.length);
  });

  it('loses no span when the agent and the collector are stopped and restarted mid-stream', async () => {
    const traces = Array.from({ length: 300 }, () => zipkinStyleTrace());
    const traceIds = traces.map((t) => t[0].traceId);
    const total = traces.length * 4;
    for (let i = 0; i < 100; i++) writeSpans(traces[i]);
    await new Promise((r) => setTimeout(r, 1500));
    await agent.stop();
    for (let i = 100; i < 200; i++) writeSpans(traces[i]);
    await collector.stop();
    agent = startAgent();
    for (let i = 200; i < 300; i++) {
      writeSpans(traces[i]);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 50));
    }
    collector = startCollector();
    const count = await eventually(
      async () => {
        const n = await countDocs(`${prefix}-span-*`, { terms: { traceId: traceIds } });
        return n >= total ? n : undefined;
      },
      { what: `${total} spans in Elasticsearch`, timeoutMs: 120_000 },
    );
    expect(count).toBe(total);
  });

  it('counts and skips a malformed span line and a malformed Kafka message; the spans around them arrive', async () => {
    const before = zipkinStyleTrace();
    const after = zipkinStyleTrace();
    writeSpans(before);
    appendFileSync(spanFile, 'this is not a span\n{"traceId":"not-hex","id":"1"}\n');
    writeSpans(after);
    // Messages no agent wrote: one that is not a JSON list, one whose only span is invalid.
    const { createProducer } = await import('@pintrace/kafka');
    const producer = createProducer({ brokers: kafkaBrokers });
    await producer.connect();
    await producer.send(topic, [
      { key: 'garbage', value: Buffer.from('\u0000\u0001 definitely not zipkin') },
      { key: 'bad-span', value: '[{"traceId":"XYZ","id":"1"}]' },
    ]);
    await producer.disconnect();
    const late = zipkinStyleTrace();
    writeSpans(late);

    const ids = [before, after, late].map((t) => t[0].traceId);
    const n = await eventually(
      async () => {
        const c = await countDocs(`${prefix}-span-*`, { terms: { traceId: ids } });
        return c >= 12 ? c : undefined;
      },
      { what: 'the spans around the malformed input' },
    );
    expect(n).toBe(12);
    expect(await metric(agentPort, 'pintrace_agent_skipped_lines_total')).toBeGreaterThanOrEqual(1);
    expect(await metric(collectorPort, 'pintrace_collector_messages_undecodable_total')).toBeGreaterThanOrEqual(1);
    expect(await metric(collectorPort, 'pintrace_collector_spans_rejected_total')).toBeGreaterThanOrEqual(1);
  });
});
