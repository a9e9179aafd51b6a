import { open, type FileHandle } from 'node:fs/promises';
import { identify, sameContent, sameInode, widenFingerprint, type FileIdentity } from './file-identity.js';

const NEWLINE = 0x0a;

/** Complete lines read from one file, not yet committed. */
export interface ReadBatch {
  /** How many complete lines the batch holds (0 while stepping over an over-long line). */
  lineCount: number;
  /**
   * The bytes of the lines: line i is `bytes[lineStarts[i], lineEnds[i])` (newline and a CR before
   * it excluded). Lines are not decoded to strings: the batcher works on these bytes. Valid only
   * until the reader's next read() (the buffer is reused): check `reader.holds(batch)`.
   */
  bytes?: Buffer;
  lineStarts?: Int32Array;
  lineEnds?: Int32Array;
  /** Which read() filled `bytes` (see StreamReader.holds). */
  readSeq?: number;
  /** Offset of the first byte of the batch. */
  start: number;
  /** Offset just after the last newline of the batch: the watermark once it is acknowledged. */
  end: number;
  /** Bytes of an over-long line stepped over in this batch (counted, never shipped). */
  oversizedBytes: number;
  /** The first bytes of an over-long line, when this batch starts stepping over one (for the dead-letter topic). */
  oversizedHead?: string;
}

/** The lines of a batch decoded (tests and tools; the agent itself works on the bytes). */
export function linesOf(batch: ReadBatch): string[] {
  const out: string[] = [];
  for (let i = 0; i < batch.lineCount; i++) out.push(batch.bytes!.toString('utf8', batch.lineStarts![i], batch.lineEnds![i]));
  return out;
}

/** How much of an over-long line is kept for the dead-letter topic. */
export const OVERSIZED_HEAD_BYTES = 1024;

export interface ReaderLimits {
  /** Most bytes read at once (a line longer than this is stepped over here). */
  maxBytes: number;
  /** Longest line shipped (longer ones are rejected by the batcher); default maxBytes. */
  maxLineBytes?: number;
  /** Most lines in one batch. */
  maxLines: number;
}

export interface ReaderEvents {
  /** The file got shorter than the position, or its first bytes changed: it is re-read from 0. */
  onTruncated(info: { path: string; offset: number; size: number; rewritten: boolean }): void;
}

/**
 * A cursor over one open span log file. It reads from the committed position in bounded chunks
 * and hands out complete lines only: a last line without its newline stays in the file until the
 * newline arrives. The position moves only when the caller calls advance() after Kafka
 * acknowledged the batch, so a failed batch is simply read again by the next read(). The file is read through an
 * open handle, so a rename (rotation) does not disturb it.
 */
export class StreamReader {
  private fh: FileHandle | undefined;
  private id: FileIdentity | undefined;
  private filePath = '';
  private pos = 0;
  /** Size seen by the last read(); a later larger size means new data arrived. */
  private seenSize = 0;
  /** Size at which the content was last checked against the fingerprint. */
  private verifiedSize = -1;
  /** Inside a line longer than maxBytes: skip to its newline. */
  private skippingLongLine = false;
  /**
   * Two read buffers used in turn, so the next batch can be read ahead (readAhead) while the
   * lines of the one being sent still sit in the other.
   */
  private readonly bufs: [Buffer, Buffer];
  /** Counts the reads; read n fills bufs[n % 2], so a batch can tell whether its bytes are still there. */
  private readSeq = 0;

  constructor(
    private readonly limits: ReaderLimits,
    private readonly events: ReaderEvents,
  ) {
    this.bufs = [Buffer.allocUnsafe(limits.maxBytes), Buffer.allocUnsafe(limits.maxBytes)];
  }

  get isOpen(): boolean {
    return this.fh !== undefined;
  }
  get identity(): FileIdentity {
    if (!this.id) throw new Error('StreamReader: no file open');
    return this.id;
  }
  /** Where the file was when last seen (rotation renames it; see relocate()). */
  get path(): string {
    return this.filePath;
  }
  get offset(): number {
    return this.pos;
  }

  /**
   * Opens a file at an offset (closing the previous one). With `expected`, only the file listed
   * (device + inode): a live name rotated since the listing now names the newer file, and opening
   * that would skip the renamed one. False (the current file stays open) when the name moved on.
   */
  async open(filePath: string, offset: number, expected?: { dev: number; ino: number }): Promise<boolean> {
    const fh = await open(filePath, 'r');
    try {
      const id = await identify(fh);
      if (expected !== undefined && !sameInode(id, expected)) {
        await fh.close();
        return false;
      }
      await this.close();
      this.fh = fh;
      this.id = id;
    } catch (err) {
      await fh.close();
      throw err;
    }
    this.filePath = filePath;
    this.pos = offset;
    this.seenSize = 0;
    this.verifiedSize = -1;
    this.skippingLongLine = false;
    return true;
  }

  /** Adopts an already opened handle whose identity the caller checked (resume from a watermark). */
  adopt(fh: FileHandle, id: FileIdentity, filePath: string, offset: number): void {
    void this.close();
    this.fh = fh;
    this.id = id;
    this.filePath = filePath;
    this.pos = offset;
    this.seenSize = 0;
    this.verifiedSize = -1;
    this.skippingLongLine = false;
  }

  /** Records the file's current name after a rename. */
  relocate(filePath: string): void {
    this.filePath = filePath;
  }

  async stat(): Promise<{ size: number; mtimeMs: number; nlink: number }> {
    if (!this.fh) return { size: 0, mtimeMs: 0, nlink: 1 };
    return this.fh.stat();
  }

  async size(): Promise<number> {
    if (!this.fh) return 0;
    return (await this.fh.stat()).size;
  }

  /** True when the file grew since the last read() (so there may be more to read). */
  async grewSinceRead(): Promise<boolean> {
    return (await this.size()) > this.seenSize;
  }

  /** Bytes after the position: unread or uncommitted data, or a partial last line. */
  async remaining(): Promise<number> {
    return Math.max(0, (await this.size()) - this.pos);
  }

  /**
   * The next batch of complete lines after the position, or undefined when there is none yet.
   * Limits bound memory: at most maxBytes are read and at most maxLines returned.
   */
  async read(maxLines = this.limits.maxLines): Promise<ReadBatch | undefined> {
    return this.readAt(undefined, maxLines);
  }

  /**
   * The batch after `batch`, read before `batch` is acknowledged (the position does not move and
   * no state changes: no truncation check, no stepping into an over-long line). Its lines can be
   * checked and grouped while `batch` is on its way; ship it only if `readAheadUsable` says so
   * once `batch` was acknowledged and the position advanced. Undefined when there is nothing
   * complete to read ahead.
   */
  async readAhead(batch: ReadBatch, maxLines = this.limits.maxLines): Promise<ReadBatch | undefined> {
    if (this.skippingLongLine || batch.lineCount === 0) return undefined;
    return this.readAt(batch.end, maxLines, true);
  }

  /**
   * Whether a read-ahead batch is the next batch now: the file passes the truncation check a
   * read() makes (else the position went back to 0), the position is the batch's start and its
   * bytes are intact.
   */
  async readAheadUsable(batch: ReadBatch): Promise<boolean> {
    const fh = this.fh;
    if (!fh || !this.id || batch.start !== this.pos || !this.holds(batch)) return false;
    const size = (await fh.stat()).size;
    this.seenSize = size;
    await this.checkTruncation(fh, size);
    return batch.start === this.pos && size >= batch.end;
  }

  /** Reads at `at` (a read-ahead), else at the position as the truncation check leaves it. */
  private async readAt(at: number | undefined, maxLines: number, ahead = false): Promise<ReadBatch | undefined> {
    const fh = this.fh;
    if (!fh || !this.id) return undefined;
    const size = (await fh.stat()).size;
    if (!ahead) {
      this.seenSize = size;
      await this.checkTruncation(fh, size);
    }
    const from = at ?? this.pos;
    if (size <= this.pos || size <= from) return undefined;
    if (!ahead && this.id.fingerprintLength < size) this.id = await widenFingerprint(fh, this.id, size);

    const want = Math.min(this.limits.maxBytes, size - from);
    const seq = ++this.readSeq;
    const buf = this.bufs[seq % 2];
    const { bytesRead } = await fh.read(buf, 0, want, from);
    const chunk = buf.subarray(0, bytesRead);
    const start = from;
    let cursor = 0;
    let oversizedBytes = 0;
    if (this.skippingLongLine) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) return { lineCount: 0, start, end: start + bytesRead, oversizedBytes: bytesRead };
      cursor = nl + 1;
      oversizedBytes = cursor;
      this.skippingLongLine = false;
    }
    const lineStarts = new Int32Array(maxLines);
    const lineEnds = new Int32Array(maxLines);
    let lineCount = 0;
    while (lineCount < maxLines) {
      const nl = chunk.indexOf(NEWLINE, cursor);
      if (nl < 0) break;
      lineStarts[lineCount] = cursor;
      lineEnds[lineCount] = nl > cursor && chunk[nl - 1] === 0x0d ? nl - 1 : nl;
      lineCount++;
      cursor = nl + 1;
    }
    if (ahead && cursor === 0) return undefined; // an over-long line: read() steps over it
    if (cursor === 0 && bytesRead === this.limits.maxBytes) {
      // A line longer than the read buffer: it cannot be shipped whole; step over it.
      this.skippingLongLine = true;
      const oversizedHead = chunk.toString('utf8', 0, Math.min(OVERSIZED_HEAD_BYTES, bytesRead));
      return { lineCount: 0, start, end: start + bytesRead, oversizedBytes: bytesRead, oversizedHead };
    }
    if (cursor === 0) return undefined; // only a partial line so far
    return { lineCount, start, end: start + cursor, oversizedBytes, bytes: chunk, lineStarts, lineEnds, readSeq: seq };
  }

  /** True while a batch's `bytes` still hold its lines (at most one read since the one that made it). */
  holds(batch: ReadBatch): boolean {
    return batch.bytes !== undefined && batch.readSeq !== undefined && this.readSeq - batch.readSeq <= 1;
  }

  /** True while stepping over the rest of an over-long line. */
  get inLongLine(): boolean {
    return this.skippingLongLine;
  }

  /** Moves the position past a batch (after it was acknowledged). */
  advance(end: number): void {
    this.pos = end;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  /**
   * Copy-truncate or a rewrite: the file is shorter than the position, or (checked whenever the
   * size changed) its first bytes no longer match the fingerprint. Either way the file is read
   * again from 0 and the caller is told.
   */
  private async checkTruncation(fh: FileHandle, size: number): Promise<void> {
    const id = this.id!;
    if (size === this.verifiedSize && size >= this.pos) return;
    this.verifiedSize = size;
    const shorter = size < this.pos;
    if (!shorter && (await sameContent(fh, id))) return;
    if (this.pos === 0) {
      // Nothing was taken from the old content: just identify what is there now.
      this.id = await identify(fh);
      return;
    }
    const rewritten = !shorter;
    this.events.onTruncated({ path: this.filePath, offset: this.pos, size, rewritten });
    this.id = await identify(fh);
    this.pos = 0;
    this.skippingLongLine = false;
    this.verifiedSize = -1;
  }
}
