import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listStreamFiles, listStreams, streamOf } from '../src/log-stream.js';
import { tempDir } from './helpers.js';

describe('streamOf', () => {
  it('maps live and rotated span logs to their base name', () => {
    expect(streamOf('checkout.jsonl')).toBe('checkout.jsonl');
    expect(streamOf('checkout.jsonl.1718000000000')).toBe('checkout.jsonl');
    expect(streamOf('my.svc.jsonl.3')).toBe('my.svc.jsonl');
  });
  it('ignores hidden, compressed and unrelated files', () => {
    expect(streamOf('.pintrace-agent')).toBeUndefined();
    expect(streamOf('.x.jsonl')).toBeUndefined();
    expect(streamOf('checkout.jsonl.1.gz')).toBeUndefined();
    expect(streamOf('checkout.log')).toBeUndefined();
  });
});

describe('listStreamFiles', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('orders rotated files by mtime, then numeric suffix, and the live file last', async () => {
    await writeFile(path.join(dir, 'a.jsonl'), 'x\n');
    await writeFile(path.join(dir, 'a.jsonl.200'), 'x\n');
    await writeFile(path.join(dir, 'a.jsonl.100'), 'x\n');
    await writeFile(path.join(dir, 'a.jsonl.1000'), 'x\n');
    await writeFile(path.join(dir, 'a.jsonl.050'), 'x\n');
    await writeFile(path.join(dir, 'b.jsonl'), 'x\n');
    await mkdir(path.join(dir, 'c.jsonl'));
    const t = new Date(1_700_000_000_000);
    for (const n of ['a.jsonl.200', 'a.jsonl.100', 'a.jsonl.1000']) await utimes(path.join(dir, n), t, t);
    await utimes(path.join(dir, 'a.jsonl.050'), new Date(1_800_000_000_000), new Date(1_800_000_000_000));
    const files = await listStreamFiles(dir, 'a.jsonl');
    expect(files.map((f) => f.name)).toEqual(['a.jsonl.100', 'a.jsonl.200', 'a.jsonl.1000', 'a.jsonl.050', 'a.jsonl']);
    expect(files.at(-1)?.live).toBe(true);
    expect(await listStreams(dir)).toEqual(['a.jsonl', 'b.jsonl']);
  });

  it('treats a missing directory as empty', async () => {
    expect(await listStreams(path.join(dir, 'nope'))).toEqual([]);
    expect(await listStreamFiles(path.join(dir, 'nope'), 'a.jsonl')).toEqual([]);
  });
});
