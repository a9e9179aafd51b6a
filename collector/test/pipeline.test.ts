import { describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { buildPipeline, type PipelineOptions } from '../src/pipeline.js';
import { FakeConsumer, FakeWriter, listMessage, sample, settle, silentLog, span, testMetrics } from './fakes.js';

function setup(overrides: Partial<PipelineOptions> = {}) {
  const consumer = new FakeConsumer();
  const writer = new FakeWriter();
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
    ...overrides,
  });
  const results = lastValueFrom(pipeline.committed$.pipe(toArray()));
  results.catch(() => {});
  return { consumer, writer, registry, pipeline, results };
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
    const p0 = consumer.commits.flat().filter((o) => o.partition === 0).map((o) => Number(o.offset));
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
    const { consumer, writer, registry } = setup();
    writer.failWith = new Error('connect ECONNREFUSED 127.0.0.1:9200');
    const s = span();
    const handled = watch(consumer.deliver(0, [listMessage([s])]));
    await new Promise((r) => setTimeout(r, 60));
    expect(writer.attempts).toBeGreaterThan(2);
    expect(consumer.commits).toEqual([]);
    expect(handled.settled).toBe(false);
    expect(await sample(registry, 'pintrace_collector_sink_retries_total')).toBeGreaterThan(1);

    writer.failWith = undefined;
    await new Promise((r) => setTimeout(r, 30));
    expect(writer.allSpans().map((x) => x.id)).toEqual([s.id]);
    expect(consumer.committed()).toEqual({ 0: '1' });
    expect(handled.settled).toBe(true);
  });

  it('errors without committing when aborted while the sink waits', async () => {
    const abort = new AbortController();
    const { consumer, writer, results } = setup({ signal: abort.signal });
    writer.failWith = new Error('es down');
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

  it('splits a large batch into bulks of batchSize and commits only when all of them are written', async () => {
    const { consumer, writer } = setup({ batchSize: 2 });
    writer.manual = true;
    const handled = watch(consumer.deliver(0, [listMessage([span(), span(), span()]), listMessage([span(), span()])]));
    await settle();
    expect(writer.pending.map((p) => p.spans.length)).toEqual([2, 2]);
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
