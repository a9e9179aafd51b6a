import { stat, unlink } from 'node:fs/promises';
import { sameInode, type FileIdentity } from './file-identity.js';
import type { StreamFile } from './log-stream.js';

/**
 * Singer's removeOldFiles: deletes the rotated files of a stream that sort before the file being
 * read (so every byte of them was acknowledged and committed) and whose modification time is
 * older than `retentionMs`. Each file's inode is checked again just before the unlink, so a name
 * that now holds another file is left alone. Returns the paths deleted. Off unless configured.
 */
export async function removeShippedFiles(files: readonly StreamFile[], current: FileIdentity, retentionMs: number, now = Date.now()): Promise<string[]> {
  const idx = files.findIndex((f) => sameInode(f, current));
  if (idx <= 0) return [];
  const removed: string[] = [];
  for (const f of files.slice(0, idx)) {
    if (f.live) continue;
    if (now - Number(f.mtimeNs / 1_000_000n) < retentionMs) continue;
    try {
      const st = await stat(f.path);
      if (st.ino !== f.ino || st.dev !== f.dev) continue;
      await unlink(f.path);
      removed.push(f.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return removed;
}
