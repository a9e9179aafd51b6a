import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentError } from '../src/errors.js';
import { WatermarkStore, type Watermark } from '../src/watermark.js';
import { tempDir } from './helpers.js';

const wm = (offset: number): Watermark => ({
  version: 1,
  stream: 'a.jsonl',
  file: { path: '/x/a.jsonl', dev: 1, ino: 2, fingerprint: 'ff', fingerprintLength: 10 },
  offset,
  committedAt: 1,
});

describe('WatermarkStore', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('returns undefined when there is no watermark, and round-trips one', async () => {
    const store = new WatermarkStore(path.join(dir, 'state'));
    expect(await store.load('a.jsonl')).toBeUndefined();
    await store.save(wm(10));
    await store.save(wm(20));
    expect(await store.load('a.jsonl')).toEqual(wm(20));
    // Written through a temp file that is renamed: nothing else is left behind.
    expect(await readdir(path.join(dir, 'state'))).toEqual(['a.jsonl.watermark.json']);
  });

  it('sets a corrupt watermark aside and reports it', async () => {
    const store = new WatermarkStore(dir);
    await writeFile(store.fileOf('a.jsonl'), '{"version":1,"stream":"a.js');
    await expect(store.load('a.jsonl')).rejects.toMatchObject({ code: 'AGENT_WATERMARK_CORRUPT' } satisfies Partial<AgentError>);
    expect(await readFile(`${store.fileOf('a.jsonl')}.corrupt`, 'utf8')).toContain('version');
    expect(await store.load('a.jsonl')).toBeUndefined();
  });
});
