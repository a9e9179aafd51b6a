import { describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import type { DependencyLinkDocument } from '@pintrace/storage';
import { buildPipeline, type PipelineOptions } from '../src/pipeline.js';
import { FakeConsumer, FakeWriter, listMessage, sample, settle, silentLog, span, testMetrics } from './fakes.js';

function setup(overrides: Partial<PipelineOptions> = {}) {
  const consumer = new FakeConsumer();
  const writer = new FakeWriter();
  const docs: DependencyLinkDocument[][] = [];
  const { registry, metrics } = testMetrics();
  const pipeline = buildPipeline({
    consumer,
    writer,
    metrics,
    log: silentLog,
    batchSize: 100,
    batchTimeMs: 5,
    minBackoffMs: 1,
    maxBackoffMs: 5,
    group: { inactivityMs: 60, maxSpansPerTrace: 1000, maxOpenTraces: 1000 },
    dependencies: {
      groupId: 'g',
      flushMs: 30,
      store: {
        write: async (d) => {
          docs.push([...d]);
        },
        read: async () => [{ dayMillis: 0, owner: 'g/t/0', parent: 'a', child: 'b', callCount: 5, errorCount: 1 }],
      },
    },
    ...overrides,
  });
  const results = lastValueFrom(pipeline.committed$.pipe(toArray()));
  results.catch(() => {});
  return { consumer, writer, registry, pipeline, results, docs };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pipeline with a group window', () => {
  it('writes spans before their trace closes, each once, and commits only after the trace and its links are durable', async () => {
    const { consumer, writer, docs, registry } = setup();
    const traceId = '00000000000000f1';
    const server = span({ traceId, id: '0000000000000001', kind: 'SERVER', localEndpoint: { serviceName: 'b' }, remoteEndpoint: { serviceName: 'a' } });
    const client = span({ traceId, id: '0000000000000002', parentId: '0000000000000001', kind: 'CLIENT', localEndpoint: { serviceName: 'b' }, remoteEndpoint: { serviceName: 'c' }, tags: { error: '' } });
    // The handler returns once the group holds the batch: the source fetches on.
    await consumer.deliver(0, [listMessage([server])]);
    await consumer.deliver(0, [listMessage([client])]);
    // past the batch wait (5 ms), well inside the window (60 ms): written, not committed
    await sleep(25);
    expect(writer.allSpans().map((s) => s.id).sort()).toEqual([server.id, client.id]);
    expect(consumer.commits).toEqual([]);
    await sleep(200);
    expect(writer.allSpans()).toHaveLength(2);
    expect(consumer.committed()).toEqual({ 0: '2' });
    // Links continue the totals read back for (day, owner).
    const last = docs.at(-1)!;
    expect(last.map((d) => [d.parent, d.child, d.callCount, d.errorCount, d.owner])).toEqual([
      ['a', 'b', 6, 1, 'g/t/0'],
      ['b', 'c', 1, 1, 'g/t/0'],
    ]);
    expect(await sample(registry, 'pintrace_collector_traces_closed_total', { reason: 'inactive' })).toBe(1);
  });

  it('pauses the partitions above maxHeldSpans and resumes below half', async () => {
    const { consumer, writer } = setup({ maxHeldSpans: 3, dependencies: undefined });
    writer.manual = true;
    let resumed = 0;
    consumer.resume = () => {
      resumed += 1;
    };
    await consumer.deliver(0, [listMessage([span(), span(), span(), span()])]);
    expect(consumer.paused).toHaveLength(1);
    await sleep(150);
    while (writer.pending.length > 0) writer.completeNext();
    await settle();
    expect(resumed).toBe(1);
  });
});
