/**
 * The intake's spool: span lines appended to one span file in the spans directory
 * (`pintrace-intake.jsonl`, the per-service form of model/'s span file naming), which the agent
 * then tails and ships like any other span file: same watermarks, keys and at-least-once delivery.
 *
 * An append resolves only once its lines are written, and with `fsync: 'always'` only once they are
 * on disk, so a request is acknowledged only after its spans survive the agent's death (any policy)
 * or the host's (only 'always'). Concurrent appends are written and synced together (group
 * commit): one write and one fsync for all requests that arrived while the previous one ran.
 *
 *   fsync policy   agent killed        host crash / power loss
 *   always         nothing lost        nothing acknowledged is lost
 *   interval       nothing lost        up to fsyncIntervalMs of acknowledged spans
 *   never          nothing lost        whatever the OS had not written back
 *
 * The live file is rotated by rename (`<name>.<epoch-ms>`) when it passes fileBytes; once the agent's
 * unshipped bytes fit in the live file, every rotated file has been shipped and is deleted (so the
 * spool's disk use is bounded too, without --retention-seconds). The bound is on the backlog, the bytes written but
 * not yet shipped (the agent's lag for this stream): past maxBytes, appends are refused
 * (SpoolFullError) and the intake answers 429 / RESOURCE_EXHAUSTED.
 */
import { open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { spanFileName } from '@pintrace/model';

export type FsyncPolicy = 'always' | 'interval' | 'never';

export const SPOOL_SERVICE_NAME = 'pintrace-intake';

export interface SpoolOptions {
  dir: string;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  /** Most unshipped bytes before appends are refused. */
  maxBytes: number;
  /** Size at which the live file is rotated. */
  fileBytes: number;
  /** Bytes written but not yet shipped, as the agent last measured them (undefined: not tailed yet). */
  shippedLag: () => Promise<number | undefined>;
}

export class SpoolFullError extends Error {
  readonly code = 'SPOOL_FULL';
  readonly retryable = true;
  constructor(readonly backlogBytes: number) {
    super(`the intake spool holds ${backlogBytes} unshipped bytes, over its bound`);
    this.name = 'SpoolFullError';
  }
}

interface Pending {
  data: Buffer;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Spool {
  readonly file: string;
  /** The agent's stream name of the spool files. */
  readonly stream: string;
  private handle: FileHandle | undefined;
  private size = 0;
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  /** Backlog as last measured, plus what was appended since. */
  private lagMeasured = 0;
  private appendedSinceMeasure = 0;
  private measuredAt = 0;
  private measuring: Promise<void> | undefined;
  private rotatedFiles = 0;
  private sweeping = false;
  private closed = false;

  constructor(private readonly o: SpoolOptions) {
    this.stream = spanFileName(SPOOL_SERVICE_NAME);
    this.file = path.join(o.dir, this.stream);
  }

  async start(): Promise<void> {
    await this.openLive();
    // rotations left by an earlier run are swept like new ones, once shipped
    this.rotatedFiles = (await readdir(this.o.dir)).filter((n) => n.startsWith(`${this.stream}.`)).length;
    const lag = await this.o.shippedLag();
    // Before the agent has looked at the file, all of it may be unshipped.
    this.lagMeasured = lag ?? this.size;
    this.measuredAt = Date.now();
    if (this.o.fsync === 'interval') {
      this.timer = setInterval(() => void this.syncIfDirty(), this.o.fsyncIntervalMs);
      this.timer.unref();
    }
  }

  /** Unshipped bytes (approximate between measurements: measured lag + appended since). */
  backlogBytes(): number {
    return this.lagMeasured + this.appendedSinceMeasure + this.queue.reduce((n, p) => n + p.data.length, 0);
  }

  /** Throws SpoolFullError when the backlog is over the bound; else resolves once written (and synced, per policy). */
  async append(lines: readonly string[]): Promise<void> {
    if (this.closed) throw new Error('the intake spool is closed');
    await this.refreshLag();
    const backlog = this.backlogBytes();
    if (backlog > this.o.maxBytes) throw new SpoolFullError(backlog);
    if (lines.length === 0) return;
    const data = toLines(lines);
    const done = new Promise<void>((resolve, reject) => this.queue.push({ data, resolve, reject }));
    this.writing ??= this.drain();
    return done;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    while (this.writing) await this.writing;
    await this.syncIfDirty();
    await this.handle?.close();
    this.handle = undefined;
  }

  private async refreshLag(): Promise<void> {
    if (Date.now() - this.measuredAt < 100) return;
    this.measuring ??= (async () => {
      try {
        const appendedBefore = this.appendedSinceMeasure;
        const liveBefore = this.size;
        const lag = await this.o.shippedLag();
        if (lag !== undefined) {
          this.lagMeasured = lag;
          this.appendedSinceMeasure -= appendedBefore;
          // Fewer unshipped bytes than the live file held before the measurement: the agent reads
          // the live file, which it opens only after committing the last rotated one. (Equal could
          // be a reader at the very end of a rotated file with its last batch still in flight.)
          if (this.rotatedFiles > 0 && lag < liveBefore) void this.deleteShippedRotations();
        }
        this.measuredAt = Date.now();
      } finally {
        this.measuring = undefined;
      }
    })();
    await this.measuring;
  }

  /** Deletes rotated spool files: called only when the unshipped bytes all lie in the live file. */
  private async deleteShippedRotations(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const prefix = `${this.stream}.`;
      const names = (await readdir(this.o.dir)).filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)));
      for (const name of names) await unlink(path.join(this.o.dir, name)).catch(() => undefined);
      this.rotatedFiles = 0;
    } finally {
      this.sweeping = false;
    }
  }

  private async openLive(): Promise<void> {
    this.handle = await open(this.file, 'a+');
    this.size = (await this.handle.stat()).size;
    if (this.size > 0) {
      // A line cut short by a crash mid-write was never acknowledged; end it, so that it is skipped
      // as one bad line instead of spoiling the first line appended after it.
      const last = Buffer.alloc(1);
      await this.handle.read(last, 0, 1, this.size - 1);
      if (last[0] !== 0x0a) {
        await this.handle.appendFile('\n');
        this.size++;
      }
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          if (this.size >= this.o.fileBytes) await this.rotate();
          const data = batch.length === 1 ? batch[0]!.data : Buffer.concat(batch.map((p) => p.data));
          await this.handle!.appendFile(data);
          const bytes = data.length;
          this.size += bytes;
          this.appendedSinceMeasure += bytes;
          if (this.o.fsync === 'always') await this.handle!.datasync();
          else this.dirty = true;
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async syncIfDirty(): Promise<void> {
    if (!this.dirty || this.handle === undefined) return;
    this.dirty = false;
    await this.handle.datasync().catch(() => {
      this.dirty = true;
    });
  }

  private async rotate(): Promise<void> {
    await this.handle!.datasync();
    await this.handle!.close();
    let target = `${this.file}.${Date.now()}`;
    // two rotations in one millisecond would collide
    while (
      await stat(target).then(
        () => true,
        () => false,
      )
    )
      target = `${this.file}.${Date.now() + 1}`;
    await rename(this.file, target);
    this.rotatedFiles++;
    await this.openLive();
  }
}

/**
 * The lines as the bytes to append, encoded once into one buffer. Joined into a string instead,
 * they were copied twice more (the join, then appendFile's UTF-8 encoding), and each request's
 * string, hundreds of KiB, sat in V8's large-object space until a full GC.
 */
function toLines(lines: readonly string[]): Buffer {
  let total = lines.length;
  for (const line of lines) total += Buffer.byteLength(line);
  const data = Buffer.allocUnsafe(total);
  let at = 0;
  for (const line of lines) {
    at += data.write(line, at);
    data[at++] = 0x0a;
  }
  return data;
}
