import { mkdir, open, readFile, rename, copyFile, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AgentError } from './errors.js';
import type { FileIdentity } from './file-identity.js';

/**
 * The committed position of one stream: which file (identity plus the path it had when
 * committed) and the byte offset of the first byte not yet acknowledged by Kafka. Everything
 * before `offset` in that file, and every file older than it, has been shipped.
 */
export interface Watermark {
  version: 1;
  stream: string;
  file: FileIdentity & { path: string };
  offset: number;
  /** Wall clock of the commit, epoch milliseconds (for people reading the file). */
  committedAt: number;
}

function isWatermark(v: unknown, stream: string): v is Watermark {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Record<string, unknown>;
  const f = w.file as Record<string, unknown> | undefined;
  return (
    w.version === 1 &&
    w.stream === stream &&
    Number.isSafeInteger(w.offset) &&
    (w.offset as number) >= 0 &&
    typeof f === 'object' &&
    f !== null &&
    typeof f.path === 'string' &&
    Number.isSafeInteger(f.dev) &&
    Number.isSafeInteger(f.ino) &&
    typeof f.fingerprint === 'string' &&
    Number.isSafeInteger(f.fingerprintLength)
  );
}

/**
 * Watermarks in a state directory, one JSON file per stream (`<stream>.watermark.json`). A
 * write goes to a temp file that is fsynced and renamed over the old one, and the directory is
 * fsynced, so after a crash the file holds either the old or the new watermark, never a mix.
 */
export class WatermarkStore {
  private ready: Promise<void> | undefined;

  constructor(readonly dir: string) {}

  fileOf(stream: string): string {
    return path.join(this.dir, `${stream}.watermark.json`);
  }

  /**
   * The stream's watermark, or undefined when there is none. A corrupt file is copied to
   * `<file>.corrupt` for inspection and reported as AGENT_WATERMARK_CORRUPT.
   */
  async load(stream: string): Promise<Watermark | undefined> {
    const file = this.fileOf(stream);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!isWatermark(parsed, stream)) {
      await copyFile(file, `${file}.corrupt`).catch(() => undefined);
      await unlink(file).catch(() => undefined);
      throw new AgentError('AGENT_WATERMARK_CORRUPT', `watermark ${file} is not valid; kept as ${file}.corrupt`, {
        retryable: false,
      });
    }
    return parsed;
  }

  async save(wm: Watermark): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true }).then(() => undefined);
    await this.ready;
    const file = this.fileOf(wm.stream);
    const tmp = `${file}.tmp`;
    try {
      const fh = await open(tmp, 'w', 0o644);
      try {
        await fh.writeFile(JSON.stringify(wm) + '\n');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
      await this.syncDir();
    } catch (err) {
      throw new AgentError('AGENT_WATERMARK_WRITE', `cannot write watermark ${file}: ${(err as Error).message}`, {
        retryable: true,
        cause: err,
      });
    }
  }

  /** Forgets a stream's position (its files are gone); a missing watermark is fine. */
  async remove(stream: string): Promise<void> {
    await unlink(this.fileOf(stream)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await this.syncDir();
  }

  /** Makes the rename durable (a no-op where directories cannot be opened, e.g. Windows). */
  private async syncDir(): Promise<void> {
    let fh: FileHandle | undefined;
    try {
      fh = await open(this.dir, 'r');
      await fh.sync();
    } catch {
      // best effort
    } finally {
      await fh?.close();
    }
  }
}
