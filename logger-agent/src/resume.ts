import { open, type FileHandle } from 'node:fs/promises';
import { sameContent, sameInode, type FileIdentity } from './file-identity.js';
import type { StreamFile } from './log-stream.js';
import type { Watermark } from './watermark.js';
import type { WatermarkResetReason } from './metrics.js';

/** Where a stream continues after a (re)start. */
export type ResumePoint =
  /** The watermark's file was found with its content: continue there. */
  | { kind: 'resume'; fh: FileHandle; identity: FileIdentity; path: string; offset: number; truncated: boolean }
  /** No usable watermark: start at the oldest file, offset 0 (at-least-once: may re-send). */
  | { kind: 'start'; file: StreamFile; reset?: WatermarkResetReason }
  /** No files yet. */
  | { kind: 'empty'; reset?: WatermarkResetReason };

/**
 * Finds the watermark's file among the stream's files by device + inode, confirmed by the
 * fingerprint of its first bytes (files are followed across renames by inode). If the inode now
 * holds different content, it was reused by a new file after the old one was deleted: the
 * position is meaningless and the stream starts again from its oldest file, as it does when
 * the file is gone. A file shorter than the watermark offset was truncated: it is read from 0.
 */
export async function findResumePoint(files: StreamFile[], wm: Watermark | undefined): Promise<ResumePoint> {
  const oldest = files[0];
  if (wm === undefined) return oldest ? { kind: 'start', file: oldest } : { kind: 'empty' };
  let reset: WatermarkResetReason = 'file_missing';
  // The recorded path first: after no rotation it is the same file.
  const candidates = files.filter((f) => sameInode(f, wm.file)).sort((a, b) => Number(b.path === wm.file.path) - Number(a.path === wm.file.path));
  for (const f of candidates) {
    let fh: FileHandle;
    try {
      fh = await open(f.path, 'r');
    } catch {
      continue;
    }
    const st = await fh.stat();
    if (!sameInode(st, wm.file)) {
      await fh.close();
      continue; // renamed again under us
    }
    if (await sameContent(fh, wm.file)) {
      const truncated = st.size < wm.offset;
      return { kind: 'resume', fh, identity: wm.file, path: f.path, offset: truncated ? 0 : wm.offset, truncated };
    }
    await fh.close();
    reset = 'inode_reused';
  }
  return oldest ? { kind: 'start', file: oldest, reset } : { kind: 'empty', reset };
}
