import { appendFile, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Watermark } from '../src/watermark.js';
import { FakeProducer } from './fake-producer.js';
import { agentSandbox, ids, lines, sleep, spanLine, waitFor } from './helpers.js';

describe('logger agent', () => {
  const box = agentSandbox();
  const run = (producer?: FakeProducer, overrides?: Record<string, unknown>) => box.start(producer, overrides);
  const watermark = async (stream = 'a.jsonl'): Promise<Watermark | undefined> => {
    try {
      return JSON.parse(await readFile(path.join(box.dir, '.pintrace-agent', `${stream}.watermark.json`), 'utf8')) as Watermark;
    } catch {
      return undefined;
    }
  };
  const file = (name = 'a.jsonl') => path.join(box.dir, name);

  describe('shipping', () => {
    it('ships every line in order, one JSON list per trace keyed by trace id', async () => {
      await writeFile(file(), lines(0, 50));
      const { producer, agent } = await run();
      await waitFor(() => producer.ids().length === 50);
      await appendFile(file(), lines(50, 80));
      await waitFor(() => producer.ids().length === 80);
      expect(producer.ids().sort()).toEqual(ids(0, 80).sort());
      for (const b of producer.acked) {
        expect(b.topic).toBe('zipkin');
        for (const m of b.messages) {
          expect(m.value!.toString()[0]).toBe('[');
          const spans = JSON.parse(m.value!.toString()) as Array<{ traceId: string; id: string }>;
          expect(spans.every((s) => s.traceId.slice(-16) === m.key)).toBe(true);
          // file order within a trace
          expect(spans.map((s) => s.id)).toEqual([...spans.map((s) => s.id)].sort());
        }
        expect(new Set(b.messages.map((m) => m.key)).size).toBe(b.messages.length);
      }
      expect(await agent.metrics.value(agent.metrics.lines, { stream: 'a.jsonl' })).toBe(80);
      await waitFor(async () => (await watermark())?.offset === (await stat(file())).size);
    });

    it('tails several streams, including ones created later', async () => {
      await writeFile(file('a.jsonl'), lines(0, 5));
      const { producer, agent } = await run();
      await writeFile(file('b.jsonl'), lines(100, 105));
      await waitFor(() => producer.ids().length === 10);
      expect(
        agent
          .streams()
          .map((s) => s.stream)
          .sort(),
      ).toEqual(['a.jsonl', 'b.jsonl']);
    });

    it('reacts to file events without waiting for the poll interval', async () => {
      await writeFile(file(), lines(0, 1));
      const { producer } = await run(undefined, { pollIntervalMs: '60000' });
      await waitFor(() => producer.ids().length === 1);
      await appendFile(file(), lines(1, 3));
      await waitFor(() => producer.ids().length === 3, 2000, 'fs.watch wake-up');
    });

    it('holds back a partial last line until its newline arrives', async () => {
      const last = spanLine(3);
      await writeFile(file(), lines(0, 3) + last.slice(0, 40));
      const { producer } = await run();
      await waitFor(() => producer.ids().length === 3);
      await sleep(150);
      expect(producer.ids()).toHaveLength(3);
      expect((await watermark())?.offset).toBe(Buffer.byteLength(lines(0, 3)));
      await appendFile(file(), last.slice(40));
      await waitFor(() => producer.ids().length === 4);
    });

    it('counts and skips lines that are not spans without blocking the stream', async () => {
      await writeFile(file(), spanLine(0) + 'not json\n' + '{"no":"trace"}\n' + '{"traceId":"aaaaaaaaaaaaaaa1",\n' + spanLine(1));
      const { producer, agent } = await run();
      await waitFor(() => producer.ids().length === 2);
      const m = agent.metrics;
      expect(await m.value(m.skippedLines, { reason: 'not_json_object' })).toBe(2);
      expect(await m.value(m.skippedLines, { reason: 'no_trace_id' })).toBe(1);
      await waitFor(async () => (await watermark())?.offset === (await stat(file())).size);
    });

    it('reads in bounded batches and skips a line longer than the batch', async () => {
      const huge = JSON.stringify({ traceId: 'aaaaaaaaaaaaaaa1', id: 'ffffffffffffffff', name: 'x'.repeat(5000) }) + '\n';
      await writeFile(file(), lines(0, 100) + huge + lines(100, 200));
      const { producer, agent } = await run(undefined, { batchBytes: '2048', batchLines: '1000' });
      await waitFor(() => producer.ids().length === 200);
      expect(producer.ids().sort()).toEqual(ids(0, 200).sort());
      for (const b of producer.acked) {
        const bytes = b.messages.reduce((n, m) => n + m.value!.length, 0);
        expect(bytes).toBeLessThanOrEqual(2048 + 2 * b.messages.length);
      }
      expect(await agent.metrics.value(agent.metrics.skippedBytes, { reason: 'oversized_line' })).toBe(Buffer.byteLength(huge));
    });
  });

  describe('rotation and file identity', () => {
    it('follows a rename to the end of the old file before reading the new one', async () => {
      await writeFile(file(), lines(0, 20));
      const producer = new FakeProducer();
      producer.hold(); // the agent falls behind while the file rotates
      const { agent } = await run(producer, { batchLines: '7' });
      await waitFor(() => producer.attempts.length === 1);
      await appendFile(file(), lines(20, 30));
      await rename(file(), file('a.jsonl.1700000000000'));
      await writeFile(file(), lines(30, 45));
      producer.release();
      await waitFor(() => producer.ids().length === 45);
      // The old file's spans all come before any of the new file's.
      const order = producer.ids();
      const lastOld = Math.max(...ids(0, 30).map((id) => order.indexOf(id)));
      const firstNew = Math.min(...ids(30, 45).map((id) => order.indexOf(id)));
      expect(lastOld).toBeLessThan(firstNew);
      expect(order.sort()).toEqual(ids(0, 45).sort());
      expect(await agent.metrics.value(agent.metrics.rotations)).toBe(1);
      await waitFor(async () => (await watermark())?.file.ino === (await stat(file())).ino);
    });

    it('finishes several rotations that happened while it was stopped, oldest first', async () => {
      await writeFile(file('a.jsonl.1'), lines(0, 10));
      await sleep(20);
      await writeFile(file('a.jsonl.2'), lines(10, 20));
      await sleep(20);
      await writeFile(file(), lines(20, 30));
      const { producer } = await run();
      await waitFor(() => producer.ids().length === 30);
      expect(producer.ids().slice(0, 10).sort()).toEqual(ids(0, 10).sort());
      expect(producer.ids().slice(10, 20).sort()).toEqual(ids(10, 20).sort());
    });

    it('detects truncation, counts it and re-reads the file from 0', async () => {
      await writeFile(file(), lines(0, 10));
      const { producer, agent } = await run();
      await waitFor(() => producer.ids().length === 10);
      await truncate(file(), 0);
      await appendFile(file(), lines(10, 12));
      await waitFor(() => producer.ids().length === 12);
      expect(await agent.metrics.value(agent.metrics.truncations)).toBe(1);
    });

    it('detects truncation while stopped (file shorter than the watermark)', async () => {
      await writeFile(file(), lines(0, 10));
      const first = await run();
      await waitFor(() => first.producer.ids().length === 10);
      await first.agent.shutdown();
      await truncate(file(), Buffer.byteLength(lines(0, 10)) - 1);
      const { producer, agent } = await run();
      await waitFor(async () => (await agent.metrics.value(agent.metrics.truncations)) === 1);
      await waitFor(() => producer.ids().length === 9); // the cut last line is never complete
    });

    it('detects an inode reused by a new file and starts the stream again', async () => {
      await writeFile(file(), lines(0, 10));
      const first = await run();
      await waitFor(() => first.producer.ids().length === 10);
      await first.agent.shutdown();
      // Same inode, different content: what the watermark recorded is gone.
      const wm = (await watermark())!;
      await writeFile(file(), lines(100, 115));
      expect((await stat(file())).ino).toBe(wm.file.ino);
      const { producer, agent } = await run();
      await waitFor(() => producer.ids().length === 15);
      expect(producer.ids().sort()).toEqual(ids(100, 115).sort());
      expect(await agent.metrics.value(agent.metrics.inodeReuses)).toBe(1);
      expect(await agent.metrics.value(agent.metrics.watermarkResets, { reason: 'inode_reused' })).toBe(1);
    });

    it('detects inode reuse after delete and re-create (new file, old inode)', async () => {
      await writeFile(file(), lines(0, 10));
      const first = await run();
      await waitFor(() => first.producer.ids().length === 10);
      await first.agent.shutdown();
      const wm = (await watermark())!;
      await rm(file());
      await writeFile(file(), lines(200, 230));
      const ino = (await stat(file())).ino;
      if (ino !== wm.file.ino) {
        // The filesystem chose another inode this time: make the watermark name the new one, as reuse would.
        await writeFile(path.join(box.dir, '.pintrace-agent', 'a.jsonl.watermark.json'), JSON.stringify({ ...wm, file: { ...wm.file, ino } }));
      }
      const { producer, agent } = await run();
      await waitFor(() => producer.ids().length === 30);
      expect(producer.ids().sort()).toEqual(ids(200, 230).sort());
      expect(await agent.metrics.value(agent.metrics.inodeReuses)).toBe(1);
    });

    it('recognises a renamed file by inode after a restart and continues the new file', async () => {
      await writeFile(file(), lines(0, 10));
      const first = await run();
      await waitFor(() => first.producer.ids().length === 10);
      await first.agent.shutdown();
      await appendFile(file(), lines(10, 15));
      await rename(file(), file('a.jsonl.1'));
      await writeFile(file(), lines(15, 20));
      const { producer } = await run();
      await waitFor(() => producer.ids().length === 10);
      await sleep(100);
      expect(producer.ids().sort()).toEqual(ids(10, 20).sort());
    });
  });

  describe('watermarks and delivery', () => {
    it('writes the watermark only after the ack; a failing producer loses nothing and is retried', async () => {
      await writeFile(file(), lines(0, 10));
      const producer = new FakeProducer();
      producer.down = true;
      const { agent } = await run(producer);
      await waitFor(() => producer.attempts.length >= 5);
      expect((await watermark())?.offset ?? 0).toBe(0);
      expect(agent.health().ok).toBe(false);
      // While Kafka is down the agent holds the stream: every attempt is the same first batch.
      const firstValue = producer.attempts[0].messages.map((m) => m.value!.toString()).join();
      expect(producer.attempts.every((a) => a.messages.map((m) => m.value!.toString()).join() === firstValue)).toBe(true);
      producer.down = false;
      await waitFor(() => producer.ids().length === 10);
      expect(producer.ids().sort()).toEqual(ids(0, 10).sort());
      await waitFor(async () => (await watermark())?.offset === (await stat(file())).size);
      expect(agent.health().ok).toBe(true);
      expect(await agent.metrics.value(agent.metrics.errors, { kind: 'kafka_send' })).toBeGreaterThanOrEqual(5);
    });

    it('starts while Kafka is unreachable and ships once it connects', async () => {
      await writeFile(file(), lines(0, 5));
      const producer = new FakeProducer();
      producer.connectFailures = 3;
      const { agent } = await run(producer);
      await waitFor(() => producer.ids().length === 5);
      expect(producer.connects).toBe(4);
      expect(await agent.metrics.value(agent.metrics.errors, { kind: 'kafka_connect' })).toBe(3);
    });

    it('resumes from the watermark after a restart with no loss and no re-send', async () => {
      await writeFile(file(), lines(0, 10));
      const first = await run();
      await waitFor(() => first.producer.ids().length === 10);
      await first.agent.shutdown();
      await appendFile(file(), lines(10, 15));
      const { producer } = await run();
      await waitFor(() => producer.ids().length === 5);
      await sleep(100);
      expect(producer.ids().sort()).toEqual(ids(10, 15).sort());
    });

    it('re-sends at most the batch whose ack was lost (at-least-once)', async () => {
      await writeFile(file(), lines(0, 30));
      const producer = new FakeProducer();
      producer.storeThenFail = 1;
      await run(producer, { batchLines: '10' });
      await waitFor(() => new Set(producer.ids()).size === 30);
      const all = producer.ids();
      const dupes = all.length - new Set(all).size;
      expect(dupes).toBe(10);
    });

    it('keeps a batch intact while it waits for its acks, is retried, and the next batches are built', async () => {
      await writeFile(file(), lines(0, 60));
      const producer = new FakeProducer();
      producer.hold();
      producer.failNext = 2;
      await run(producer, { batchLines: '10' });
      await waitFor(() => producer.attempts.length >= 1);
      await sleep(100); // the next batch is read and built meanwhile (into other memory)
      producer.release();
      await waitFor(() => new Set(producer.ids()).size === 60);
      // Every stored message is the batch's own spans (parses, keyed by its trace): nothing was overwritten.
      expect(producer.ids().sort()).toEqual(ids(0, 60).sort());
      for (const b of producer.acked)
        for (const m of b.messages)
          expect((JSON.parse(m.value!.toString()) as Array<{ traceId: string }>).every((sp) => sp.traceId.slice(-16) === m.key)).toBe(true);
    });

    it('on shutdown lets the in-flight batch finish and records it', async () => {
      await writeFile(file(), lines(0, 10));
      const producer = new FakeProducer();
      producer.hold();
      const { agent } = await run(producer);
      await waitFor(() => producer.attempts.length === 1);
      const stopping = agent.shutdown();
      producer.release();
      await stopping;
      expect(producer.ids()).toHaveLength(10);
      expect((await watermark())?.offset).toBe((await stat(file())).size);
      expect(producer.disconnects).toBe(1);
    });

    it('starts from the oldest file again when the watermark file is corrupt', async () => {
      await writeFile(file(), lines(0, 3));
      await writeFile(path.join(box.dir, '.pintrace-agent', 'a.jsonl.watermark.json'), 'garbage').catch(async () => {
        await (await import('node:fs/promises')).mkdir(path.join(box.dir, '.pintrace-agent'));
        await writeFile(path.join(box.dir, '.pintrace-agent', 'a.jsonl.watermark.json'), 'garbage');
      });
      const { producer, agent } = await run();
      await waitFor(() => producer.ids().length === 3);
      expect(await agent.metrics.value(agent.metrics.watermarkResets, { reason: 'corrupt' })).toBe(1);
    });

    it('refuses a state directory another live agent holds', async () => {
      await run();
      const other = path.join(box.dir, '.pintrace-agent', 'agent.lock');
      await writeFile(other, `${process.ppid}\n`);
      await expect(run()).rejects.toThrow(/in use by the agent with pid/);
      await rm(other);
    });
  });
});
