import { appendFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linesOf, StreamReader } from '../src/stream-reader.js';
import { tempDir } from './helpers.js';

describe('StreamReader', () => {
  let dir: string;
  let file: string;
  let cleanup: () => Promise<void>;
  const truncations: Array<{ rewritten: boolean }> = [];
  const reader = (maxBytes = 1024, maxLines = 100) => new StreamReader({ maxBytes, maxLines }, { onTruncated: (i) => truncations.push(i) });
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    file = path.join(dir, 'a.jsonl');
    truncations.length = 0;
  });
  afterEach(() => cleanup());

  it('hands out complete lines only and holds a partial last line until its newline arrives', async () => {
    await writeFile(file, 'one\ntwo\r\nthr');
    const r = reader();
    await r.open(file, 0);
    const b = await r.read();
    expect(b && linesOf(b)).toEqual(['one', 'two']);
    expect(b?.end).toBe(9);
    r.advance(b!.end);
    expect(await r.read()).toBeUndefined();
    await appendFile(file, 'ee\n');
    const c = await r.read();
    expect(c && linesOf(c)).toEqual(['three']);
    await r.close();
  });

  it('does not move until advance(): a failed batch is read again', async () => {
    await writeFile(file, 'one\ntwo\n');
    const r = reader();
    await r.open(file, 0);
    const a = await r.read();
    const again = await r.read();
    expect({ ...again, readSeq: 0 }).toEqual({ ...a, readSeq: 0 });
    expect(r.holds(again!)).toBe(true);
    expect(r.holds(a!)).toBe(true); // two buffers in turn: one read later its bytes are still there
    await r.read();
    expect(r.holds(a!)).toBe(false); // two reads later they were overwritten
    await r.close();
  });

  it('bounds a batch by bytes and by lines', async () => {
    await writeFile(file, 'x'.repeat(99) + '\n' + ('y'.repeat(49) + '\n').repeat(10));
    const r = reader(256, 3);
    await r.open(file, 0);
    const seen: string[][] = [];
    for (let b = await r.read(); b; b = await r.read()) {
      expect(b.end - b.start).toBeLessThanOrEqual(256);
      expect(b.lineCount).toBeLessThanOrEqual(3);
      seen.push(linesOf(b));
      r.advance(b.end);
    }
    expect(seen.flat()).toHaveLength(11);
    await r.close();
  });

  it('steps over a line longer than the buffer and reports its bytes', async () => {
    await writeFile(file, 'a\n' + 'z'.repeat(700) + '\nb\n');
    const r = reader(256);
    await r.open(file, 0);
    const got: string[] = [];
    let oversized = 0;
    for (let b = await r.read(); b; b = await r.read()) {
      got.push(...linesOf(b));
      oversized += b.oversizedBytes;
      r.advance(b.end);
    }
    expect(got).toEqual(['a', 'b']);
    expect(oversized).toBe(701);
    await r.close();
  });

  it('detects truncation below the position and re-reads from 0', async () => {
    await writeFile(file, 'one\ntwo\n');
    const r = reader();
    await r.open(file, 0);
    r.advance((await r.read())!.end);
    await truncate(file, 0);
    await appendFile(file, 'new\n');
    const b = await r.read();
    expect(b && linesOf(b)).toEqual(['new']);
    expect(truncations).toMatchObject([{ rewritten: false }]);
    await r.close();
  });

  it('detects a rewrite that made the file no shorter (copy-truncate then refill)', async () => {
    await writeFile(file, 'one\n');
    const r = reader();
    await r.open(file, 0);
    r.advance((await r.read())!.end);
    await writeFile(file, 'uno\ndos\n'); // truncates and rewrites in place: same inode
    const b = await r.read();
    expect(b && linesOf(b)).toEqual(['uno', 'dos']);
    expect(truncations).toMatchObject([{ rewritten: true }]);
    await r.close();
  });

  it('reads the next batch ahead without moving, and hands it out only once the position reached it', async () => {
    await writeFile(file, 'one\ntwo\nthree\nfour\n');
    const r = reader(1024, 2);
    await r.open(file, 0);
    const first = (await r.read())!;
    const ahead = (await r.readAhead(first))!;
    expect(linesOf(ahead)).toEqual(['three', 'four']);
    expect(linesOf(first)).toEqual(['one', 'two']); // still intact: the read-ahead used the other buffer
    expect(r.offset).toBe(0);
    expect(await r.readAheadUsable(ahead)).toBe(false); // first is not acknowledged yet
    r.advance(first.end);
    expect(await r.readAheadUsable(ahead)).toBe(true);
    await r.close();
  });

  it('drops a read-ahead batch when the file was truncated meanwhile', async () => {
    await writeFile(file, 'one\ntwo\nthree\n');
    const r = reader(1024, 1);
    await r.open(file, 0);
    const first = (await r.read())!;
    const ahead = (await r.readAhead(first))!;
    await truncate(file, 0);
    await appendFile(file, 'x\n');
    r.advance(first.end);
    expect(await r.readAheadUsable(ahead)).toBe(false);
    expect(r.offset).toBe(0);
    expect(linesOf((await r.read())!)).toEqual(['x']);
    await r.close();
  });
});
