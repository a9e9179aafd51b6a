import { readdir, readlink, rename, rm, stat, utimes, writeFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeProducer } from './fake-producer.js';
import { agentSandbox, ids, lines, spanLine, waitFor } from './helpers.js';

/** Paths this process holds open (Linux: /proc/self/fd), with " (deleted)" for unlinked files. */
async function openFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    try {
      out.push(await readlink(`/proc/self/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

const spanIds = (p: FakeProducer, topic = 'zipkin') =>
  p.acked
    .filter((b) => b.topic === topic)
    .flatMap((b) => b.messages.flatMap((m) => (JSON.parse(m.value!.toString()) as Array<{ id: string }>).map((s) => s.id)));

describe('logger agent: files and rejects', () => {
  const box = agentSandbox();
  const file = (name = 'a.jsonl') => path.join(box.dir, name);
  const run = (overrides?: Record<string, unknown>, producer = new FakeProducer()) => box.start(producer, overrides);

  describe('dead-letter topic', () => {
    it('sends every line that is not a span to the dead-letter topic with its reason, and the spans to the span topic', async () => {
      const bad = ['not json', '{"no":"trace"}', '{"traceId":"aaaaaaaaaaaaaaa1",', '\u0000\u0001binary\u00ff'];
      await writeFile(file(), spanLine(0) + bad.join('\n') + '\n' + spanLine(1));
      const { producer, agent } = await run({ deadLetterTopic: 'spans-dlq' });
      await waitFor(() => spanIds(producer).length === 2 && producer.acked.some((b) => b.topic === 'spans-dlq'));
      const letters = producer.acked.filter((b) => b.topic === 'spans-dlq').flatMap((b) => b.messages);
      expect(letters.map((m) => m.value!.toString())).toEqual(bad);
      expect(letters.map((m) => m.headers?.reason)).toEqual(['not_json_object', 'no_trace_id', 'not_json_object', 'not_json_object']);
      expect(letters.every((m) => m.key === 'a.jsonl' && m.headers?.stream === 'a.jsonl')).toBe(true);
      expect(await agent.metrics.value(agent.metrics.deadLetters, { result: 'sent' })).toBe(4);
    });

    it('sends the head of a line longer than the batch to the dead-letter topic', async () => {
      const huge = 'x'.repeat(10_000);
      await writeFile(file(), lines(0, 10) + huge + '\n' + lines(10, 20));
      const { producer, agent } = await run({ deadLetterTopic: 'spans-dlq', batchBytes: '2048' });
      await waitFor(() => spanIds(producer).length === 20);
      await waitFor(async () => (await agent.metrics.value(agent.metrics.deadLetters, { result: 'sent' })) === 1);
      const [letter] = producer.acked.filter((b) => b.topic === 'spans-dlq').flatMap((b) => b.messages);
      expect(letter.headers?.reason).toBe('oversized_line');
      expect(letter.value!.toString()).toBe('x'.repeat(1024));
      expect(await agent.metrics.value(agent.metrics.skippedLines, { reason: 'oversized_line' })).toBe(1);
    });

    it('never holds the stream when dead letters cannot be written: they are dropped and counted', async () => {
      const producer = new FakeProducer();
      const send = producer.send.bind(producer);
      producer.send = async (topic, messages) => {
        if (topic === 'spans-dlq') throw Object.assign(new Error('not authorized'), { code: 'KAFKA_TOPIC_AUTHORIZATION', retryable: false });
        return send(topic, messages);
      };
      await writeFile(file(), spanLine(0) + 'garbage\n' + spanLine(1));
      const { agent } = await run({ deadLetterTopic: 'spans-dlq' }, producer);
      await waitFor(() => spanIds(producer).length === 2);
      await waitFor(async () => (await agent.metrics.value(agent.metrics.deadLetters, { result: 'dropped' })) === 1);
      await appendFile(file(), spanLine(2));
      await waitFor(() => spanIds(producer).length === 3);
    });
  });

  describe('deleted files', () => {
    it('closes the handle of a deleted file once it is read, so its space is released', async () => {
      await writeFile(file(), lines(0, 50));
      const { producer, agent } = await run();
      await waitFor(() => spanIds(producer).length === 50);
      expect((await openFiles()).some((f) => f === file())).toBe(true);
      await rm(file());
      await waitFor(async () => !(await openFiles()).some((f) => f.startsWith(file())), 5000, 'handle of the deleted file closed');
      // The counter follows the close.
      await waitFor(async () => (await agent.metrics.value(agent.metrics.releasedFiles)) >= 1, 5000, 'released_files_total').catch(() => undefined);
      expect(await agent.metrics.value(agent.metrics.releasedFiles)).toBe(1);
      // A new file of the same stream is shipped from its start.
      await writeFile(file(), lines(50, 60));
      await waitFor(() => spanIds(producer).length === 60);
      expect(spanIds(producer).sort()).toEqual(ids(0, 60));
    });

    it('releases rotated files deleted after it moved past them and holds only the live file', async () => {
      await writeFile(file(), lines(0, 20));
      const { producer } = await run();
      await waitFor(() => spanIds(producer).length === 20);
      await rename(file(), file('a.jsonl.1'));
      await writeFile(file(), lines(20, 40));
      await waitFor(() => spanIds(producer).length === 40);
      await rm(file('a.jsonl.1'));
      // Eventually: a watermark commit in progress briefly holds its temp file too.
      const held = async () => (await openFiles()).filter((f) => f.startsWith(box.dir));
      await waitFor(async () => JSON.stringify(await held()) === JSON.stringify([file()]), 5000, 'only the live file held').catch(() => undefined);
      expect(await held()).toEqual([file()]);
    });
  });

  describe('retention', () => {
    it('is off by default: rotated files stay', async () => {
      await writeFile(file('a.jsonl.1'), lines(0, 10));
      await utimes(file('a.jsonl.1'), new Date(0), new Date(0));
      await writeFile(file(), lines(10, 20));
      const { producer } = await run();
      await waitFor(() => spanIds(producer).length === 20);
      await stat(file('a.jsonl.1'));
    });

    it('deletes rotated files shipped completely and older than the retention, never the one being read', async () => {
      await writeFile(file('a.jsonl.1'), lines(0, 10));
      await writeFile(file('a.jsonl.2'), lines(10, 20));
      await utimes(file('a.jsonl.1'), new Date(1000), new Date(1000));
      await utimes(file('a.jsonl.2'), new Date(2000), new Date(2000));
      await writeFile(file(), lines(20, 30));
      const { producer, agent } = await run({ retentionSeconds: '60' });
      await waitFor(() => spanIds(producer).length === 30);
      await waitFor(async () => (await agent.metrics.value(agent.metrics.retentionDeletes)) === 2);
      expect((await readdir(box.dir)).filter((n) => !n.startsWith('.'))).toEqual(['a.jsonl']);
      expect(spanIds(producer).sort()).toEqual(ids(0, 30));
    });
  });

  describe('per-process span files (<service>@<instance>.jsonl)', () => {
    const old = new Date(1_000_000);
    const watermarks = async () => (await readdir(path.join(box.dir, '.pintrace-agent'))).filter((n) => n.endsWith('.watermark.json'));

    it('ships the files of every process of a service, rotated ones included, beside the single-process layout', async () => {
      await writeFile(file('svc@11-aaaaaa.jsonl.1700000000000'), lines(0, 10));
      await writeFile(file('svc@11-aaaaaa.jsonl'), lines(10, 20));
      await writeFile(file('svc@12-bbbbbb.jsonl'), lines(20, 30));
      await writeFile(file('svc.jsonl'), lines(30, 40));
      const { producer, agent } = await run();
      await waitFor(() => spanIds(producer).length === 40);
      expect(spanIds(producer).sort()).toEqual(ids(0, 40));
      expect(
        agent
          .streams()
          .map((s) => s.stream)
          .sort(),
      ).toEqual(['svc.jsonl', 'svc@11-aaaaaa.jsonl', 'svc@12-bbbbbb.jsonl']);
    });

    it('a process that exited (its file sealed): shipped, then removed by retention; the stream and its watermark go', async () => {
      await writeFile(file('svc@21-cccccc.jsonl.1700000000000'), lines(0, 5));
      await writeFile(file('svc@21-cccccc.jsonl.1700000000001'), lines(5, 10));
      for (const n of ['svc@21-cccccc.jsonl.1700000000000', 'svc@21-cccccc.jsonl.1700000000001']) await utimes(file(n), old, old);
      await writeFile(file('svc@22-dddddd.jsonl'), lines(10, 20));
      const { producer, agent } = await run({ retentionSeconds: '60' });
      await waitFor(() => spanIds(producer).length === 20);
      await waitFor(() => agent.streams().length === 1, 5000, 'the finished stream retired');
      expect(agent.streams().map((s) => s.stream)).toEqual(['svc@22-dddddd.jsonl']);
      expect((await readdir(box.dir)).filter((n) => !n.startsWith('.'))).toEqual(['svc@22-dddddd.jsonl']);
      expect(await watermarks()).toEqual(['svc@22-dddddd.jsonl.watermark.json']);
      expect(spanIds(producer).sort()).toEqual(ids(0, 20));
    });

    it('a process that died without sealing (its live file idle past retention): sealed, shipped to the last complete line, removed', async () => {
      await writeFile(file('svc@31-eeeeee.jsonl'), lines(0, 10) + spanLine(10).slice(0, 30));
      await utimes(file('svc@31-eeeeee.jsonl'), old, old);
      const { producer, agent } = await run({ retentionSeconds: '60' });
      await waitFor(() => spanIds(producer).length === 10);
      await waitFor(() => agent.streams().length === 0, 5000, 'the abandoned stream retired');
      expect((await readdir(box.dir)).filter((n) => !n.startsWith('.'))).toEqual([]);
      expect(await watermarks()).toEqual([]);
      expect(await agent.metrics.value(agent.metrics.skippedBytes, { reason: 'deleted_unread' })).toBe(30);
      // the name comes back (a writer that was only idle re-opens it): a new stream from its start
      await writeFile(file('svc@31-eeeeee.jsonl'), lines(20, 25));
      await waitFor(() => spanIds(producer).length === 15);
      expect(spanIds(producer).sort()).toEqual([...ids(0, 10), ...ids(20, 25)].sort());
    });

    it('never seals or removes a per-process file written recently, nor the single-process layout however idle', async () => {
      await writeFile(file('svc@41-ffffff.jsonl'), lines(0, 5));
      await writeFile(file('svc.jsonl'), lines(5, 10));
      await utimes(file('svc.jsonl'), old, old);
      const { producer } = await run({ retentionSeconds: '60' });
      await waitFor(() => spanIds(producer).length === 10);
      await new Promise((r) => setTimeout(r, 300));
      expect((await readdir(box.dir)).filter((n) => !n.startsWith('.')).sort()).toEqual(['svc.jsonl', 'svc@41-ffffff.jsonl']);
    });

    it('without retention nothing is sealed or removed', async () => {
      await writeFile(file('svc@51-gggggg.jsonl'), lines(0, 5));
      await utimes(file('svc@51-gggggg.jsonl'), old, old);
      const { producer, agent } = await run();
      await waitFor(() => spanIds(producer).length === 5);
      await new Promise((r) => setTimeout(r, 300));
      expect((await readdir(box.dir)).filter((n) => !n.startsWith('.'))).toEqual(['svc@51-gggggg.jsonl']);
      expect(agent.streams()).toHaveLength(1);
    });
  });

  describe('linger', () => {
    it('waits for more lines when a read finds less than a batch', async () => {
      await writeFile(file(), spanLine(0));
      const producer = new FakeProducer();
      const { agent } = await run({ lingerMs: '300' }, producer);
      await new Promise((r) => setTimeout(r, 100));
      await appendFile(file(), lines(1, 10));
      await waitFor(() => spanIds(producer).length === 10);
      expect(producer.acked.length).toBe(1);
      expect(await agent.metrics.value(agent.metrics.acks)).toBe(1);
    });
  });
});
