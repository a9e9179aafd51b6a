/**
 * The burst that made zipkin-server lose a third of its spans (devstack-facts §6): 10,000 Kafka
 * messages holding ~129k spans, put on the topic at once, then one collector process started
 * on it, writing into the devstack's Elasticsearch. Every span must be indexed exactly once.
 * Reports the time, spans/s and the collector's peak RSS.
 * Run alone: npx vitest run --project integration test/collector-burst.test.ts
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { burstTraces } from '../bench/lib/burst.mjs';
import { topicAndProducer } from './support/kafka-topic.js';
import { collectorArgs } from './support/part-args.js';
import { freePort, metric } from './support/ports.js';
import { startPart, type RunningPart } from './support/processes.js';
import { countDocs, deleteIndexPrefix, esUrl, eventually, kafkaBrokers, uniqueName } from './support/servers.js';

const topic = uniqueName('collector-burst');
const prefix = uniqueName('ptburst');
const MESSAGES = 10_000;

/** Peak resident set of a process, in MB (VmHWM). */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024;
}

describe('collector: the 10,000-message burst', () => {
  const kafka = topicAndProducer(topic, 3);
  let collector: RunningPart | undefined;

  afterAll(async () => {
    await collector?.stop();
    await deleteIndexPrefix(prefix);
  });

  it('indexes every span exactly once', async () => {
    const now = (Date.now() - 60_000) * 1000;
    let spans = 0;
    // 100 messages (~400 KB) per send: a partition's record batch must stay under the broker's
    // 1 MB message.max.bytes whatever way the trace ids hash.
    let chunk: Array<{ key: string; value: string }> = [];
    for (const trace of burstTraces(MESSAGES, now)) {
      spans += trace.length;
      chunk.push({ key: trace[0]!.traceId, value: JSON.stringify(trace) });
      if (chunk.length === 100) {
        await kafka.producer.send(topic, chunk);
        chunk = [];
      }
    }
    expect(spans).toBeGreaterThan(125_000);
    const port = await freePort();
    const started = Date.now();
    collector = startPart(
      'collector-burst',
      collectorArgs({ kafka: kafkaBrokers.join(','), es: esUrl, topic, groupId: `${topic}-group`, indexPrefix: prefix, indexReplicas: 0, metricsPort: port }),
      { PINTRACE_LOG_LEVEL: 'warn' },
    );
    const count = await eventually(
      async () => {
        const n = await countDocs(`${prefix}-span-*`);
        return n >= spans ? n : undefined;
      },
      { what: `${spans} span documents`, timeoutMs: 170_000, intervalMs: 1000 },
    );
    const seconds = (Date.now() - started) / 1000;
    const rss = peakRssMb(collector.child.pid!);
    // Exactly once: document ids are deterministic, so a duplicate would show as a missing count
    // elsewhere; the count must be exact and stay exact.
    expect(count).toBe(spans);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await countDocs(`${prefix}-span-*`)).toBe(spans);
    const written = await metric(port, 'pintrace_collector_spans_written_total');
    console.log(
      JSON.stringify({
        test: 'burst',
        messages: MESSAGES,
        spans,
        indexed: count,
        seconds,
        spansPerSecond: Math.round(spans / seconds),
        peakRssMb: Math.round(rss),
        writtenCounter: written,
      }),
    );
    expect(written).toBeGreaterThanOrEqual(spans);
  });
});
