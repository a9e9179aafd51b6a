import { afterEach, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import type { DependencyLinkDocument } from '@pintrace/storage';
import { buildPipeline, type PipelineOptions } from '../src/pipeline.js';
import type { SinkWriter } from '../src/sink.js';
import { failingStore, FakeConsumer, FakeWriter, listMessage, sample, settle, silentLog, span, testMetrics, until } from './fakes.js';

function setup<W extends SinkWriter = FakeWriter>(overrides: Partial<PipelineOptions> = {}, writer: W = new FakeWriter() as SinkWriter as W) {
  const consumer = new FakeConsumer();
  const { registry, metrics } = testMetrics();
  const pipeline = buildPipeline({
    consumer,
    writer,
    metrics,
    log: silentLog,
    batchTimeMs: 5,
    ...overrides,
  });
  const results = lastValueFrom(pipeline.committed$.pipe(toArray()));
  results.catch(() => {});
  return { consumer, writer, registry, pipeline, results };
}

const stores: Array<{ stop: () => Promise<void> }> = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.stop();
});

async function failing() {
  const store = await failingStore();
  stores.push(store);
  return store;
}

/** Tracks whether a promise settled yet. */
function watch(p: Promise<unknown>) {
  const state = { settled: false };
  void p.then(() => (state.settled = true));
  return state;
}

describe('pipeline: offsets are committed only after the data is durable', () => {
  it('commits a partition only after the sink resolved, and never past an unwritten batch', async () => {
    const { consumer, writer } = setup();
    writer.manual = true;
    const a1 = consumer.deliver(0, [listMessage([span()]), listMessage([span()])]);
    await settle();
    const a2 = consumer.deliver(0, [listMessage([span()])]);
    await settle();
    expect(writer.pending).toHaveLength(2);
    const b1 = consumer.deliver(1, [listMessage([span()])]);
    await settle();

    // The second batch of partition 0 is written first: partition 0 must not be committed.
    writer.pending.splice(1, 1)[0].resolve();
    await settle();
    expect(consumer.committed()[0]).toBeUndefined();
    expect(watch(a1).settled).toBe(false);

    writer.completeNext(); // a1
    await settle();
    expect(consumer.committed()).toEqual({ 0: '3' });
    await Promise.all([a1, a2]);

    writer.completeNext(); // b1
    await b1;
    await settle();
    expect(consumer.committed()).toEqual({ 0: '3', 1: '1' });
    // Every commit moved forward.
    const p0 = consumer.commits
      .flat()
      .filter((o) => o.partition === 0)
      .map((o) => Number(o.offset));
    expect(p0).toEqual([...p0].sort((x, y) => x - y));
  });

  it('lets batches of several partitions share one bulk when the consumer hands them over concurrently', async () => {
    const { consumer, writer } = setup({ consumerConcurrency: 4, batchTimeMs: 20 });
    const a = consumer.deliver(0, [listMessage([span()])]);
    const b = consumer.deliver(1, [listMessage([span(), span()])]);
    await Promise.all([a, b]);
    expect(writer.written.map((w) => w.length)).toEqual([3]);
    await settle();
    expect(consumer.committed()).toEqual({ 0: '1', 1: '1' });
  });

  it('holds the handler (and so the partition) until its batch is written', async () => {
    const { consumer, writer } = setup();
    writer.manual = true;
    const handled = watch(consumer.deliver(0, [listMessage([span()])]));
    await settle();
    expect(handled.settled).toBe(false);
    writer.completeNext();
    await settle();
    expect(handled.settled).toBe(true);
  });
});

describe('pipeline: a failing sink', () => {
  it('retries a failing bulk write and commits nothing until it succeeds, then writes it once', async () => {
    const store = await failing();
    const { consumer, registry } = setup({}, store.writer);
    const s = span();
    const handled = watch(consumer.deliver(0, [listMessage([s])]));
    await until(() => store.bulks() > 2); // real requests: the first connection alone may take 30 ms
    expect(store.bulks()).toBeGreaterThan(2);
    expect(consumer.commits).toEqual([]);
    expect(handled.settled).toBe(false);
    expect(await sample(registry, 'pintrace_collector_sink_retries_total')).toBeGreaterThan(1);

    store.state.down = false;
    await until(() => handled.settled && consumer.commits.length > 0);
    expect(store.stored).toEqual([s.id]);
    expect(consumer.committed()).toEqual({ 0: '1' });
    expect(handled.settled).toBe(true);
  });

  it('errors without committing when aborted while the sink waits', async () => {
    const abort = new AbortController();
    const store = await failing();
    const { consumer, results } = setup({ signal: abort.signal }, store.writer);
    void consumer.deliver(0, [listMessage([span()])]);
    await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    await expect(results).rejects.toMatchObject({ code: 'COLLECTOR_ABORTED' });
    expect(consumer.commits).toEqual([]);
  });
});

describe('pipeline: poison input never stalls a partition', () => {
  it('skips an undecodable message, commits past it and keeps reading the partition', async () => {
    const { consumer, writer, registry } = setup();
    await consumer.deliver(0, [Buffer.from('\u0000\u0001 not zipkin')]);
    await settle();
    expect(consumer.committed()).toEqual({ 0: '1' });
    const good = span();
    await consumer.deliver(0, [Buffer.from('[{"traceId": broken'), listMessage([good]), listMessage([{ traceId: 'xyz', id: '1' }])]);
    await settle();
    expect(writer.allSpans().map((s) => s.id)).toEqual([good.id]);
    expect(consumer.committed()).toEqual({ 0: '4' });
    expect(await sample(registry, 'pintrace_collector_messages_undecodable_total')).toBe(2);
    expect(await sample(registry, 'pintrace_collector_spans_rejected_total')).toBe(1);
  });

  it('counts a span that storage refuses for good as dropped and commits past it', async () => {
    const { consumer, writer, registry } = setup();
    const bad = span();
    const good = span();
    writer.refuse.add(bad.id);
    await consumer.deliver(0, [listMessage([bad, good])]);
    await settle();
    expect(writer.allSpans().map((s) => s.id)).toEqual([good.id]);
    expect(consumer.committed()).toEqual({ 0: '1' });
    expect(await sample(registry, 'pintrace_collector_dropped_total', { stage: 'sink', reason: 'storage_rejected' })).toBe(1);
    expect(await sample(registry, 'pintrace_collector_spans_written_total')).toBe(1);
  });
});

describe('pipeline: drain', () => {
  it('finishes in-flight batches, commits them, completes, and leaves later batches uncommitted', async () => {
    const { consumer, writer, pipeline, results } = setup();
    writer.manual = true;
    const inFlight = consumer.deliver(0, [listMessage([span()])]);
    await settle();
    pipeline.stop();
    await consumer.deliver(1, [listMessage([span()])]); // arrives during the drain: not processed
    const completed = watch(results);
    await settle();
    expect(completed.settled).toBe(false);
    writer.completeNext();
    await inFlight;
    const commits = await results;
    expect(commits.flat()).toEqual([{ topic: 't', partition: 0, offset: '1' }]);
    expect(writer.written).toHaveLength(1);
  });

  it("splits a large batch into bulks of the writer's size and commits only when all of them are written", async () => {
    const writer = new FakeWriter();
    writer.maxBatchSpans = 2;
    const { consumer } = setup({}, writer);
    writer.manual = true;
    const handled = watch(consumer.deliver(0, [listMessage([span(), span(), span()]), listMessage([span(), span()])]));
    await settle();
    // Every bulk is handed over at once: the writer, not the sink, bounds the requests in flight.
    expect(writer.pending.map((p) => p.spans.length)).toEqual([2, 2, 1]);
    writer.completeNext();
    writer.completeNext();
    await settle();
    expect(consumer.commits).toEqual([]);
    expect(writer.pending.map((p) => p.spans.length)).toEqual([1]);
    writer.completeNext();
    await settle();
    expect(consumer.committed()).toEqual({ 0: '2' });
    expect(handled.settled).toBe(true);
  });
});

function setupGroup(overrides: Partial<PipelineOptions> = {}) {
  const docs: DependencyLinkDocument[][] = [];
  const ctx = setup({
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
  return { ...ctx, docs };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pipeline with a group window', () => {
  it('writes spans before their trace closes, each once, and commits only after the trace and its links are durable', async () => {
    const { consumer, writer, docs, registry } = setupGroup();
    const traceId = '00000000000000f1';
    const server = span({ traceId, id: '0000000000000001', kind: 'SERVER', localEndpoint: { serviceName: 'b' }, remoteEndpoint: { serviceName: 'a' } });
    const client = span({
      traceId,
      id: '0000000000000002',
      parentId: '0000000000000001',
      kind: 'CLIENT',
      localEndpoint: { serviceName: 'b' },
      remoteEndpoint: { serviceName: 'c' },
      tags: { error: '' },
    });
    // The handler returns once the group holds the batch: the source fetches on.
    await consumer.deliver(0, [listMessage([server])]);
    await consumer.deliver(0, [listMessage([client])]);
    // past the batch wait (5 ms), well inside the window (60 ms): written, not committed
    await sleep(25);
    expect(
      writer
        .allSpans()
        .map((s) => s.id)
        .sort(),
    ).toEqual([server.id, client.id]);
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
    const { consumer, writer } = setupGroup({ maxHeldSpans: 3, dependencies: undefined });
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
