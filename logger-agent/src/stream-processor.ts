import { rename, stat, unlink } from 'node:fs/promises';
import { perProcessSpanFile, SPAN_FILE_ABANDONED_IDLE_MS } from '@pintrace/model';
import { Backoff, sleep, type Logger } from '@pintrace/runtime';
import type { KafkaMessage } from '@pintrace/kafka';
import { buildMessagesFromBytes, type SkipReason } from './batcher.js';
import { MessageArena } from './line-check.js';
import type { DeadLetterWriter, Reject } from './dead-letter.js';
import { AgentError } from './errors.js';
import { sameInode } from './file-identity.js';
import type { KafkaWriter, WriteResult } from './kafka-writer.js';
import { listStreamFiles, type StreamFile } from './log-stream.js';
import type { AgentMetrics } from './metrics.js';
import { findResumePoint } from './resume.js';
import { removeShippedFiles } from './retention.js';
import { StreamReader, type ReadBatch, type ReaderLimits } from './stream-reader.js';
import type { Watermark, WatermarkStore } from './watermark.js';

/** Lines per chunk of a batch: the unit that is built into messages and handed to the producer. */
const CHUNK_LINES = 4000;

/** What was shipped and skipped of a batch (filled in as its chunks are built). */
interface Built {
  spans: number;
  skipped: Partial<Record<SkipReason, number>>;
  samples: string[];
  rejects: Reject[];
  oversizedBytes: number;
}
interface Plan {
  batch: ReadBatch;
  chunks: Iterable<KafkaMessage[]>;
  built: Built;
  /** Holds the messages' bytes until the batch is acknowledged or dropped. */
  arena: MessageArena;
}
/** The next batch, read and built while the one before it was being sent. */
interface Prepared extends Plan {
  chunks: KafkaMessage[][];
}

export interface StreamProcessorOptions {
  stream: string;
  dir: string;
  store: WatermarkStore;
  writer: KafkaWriter;
  metrics: AgentMetrics;
  log: Logger;
  limits: ReaderLimits;
  /** Longest wait for an event before looking at the files again. */
  pollIntervalMs: number;
  /**
   * How long a rotated file that is read to its end is kept open while the new file is still
   * empty, in case the writer appends a last line to the old one (default 1 s).
   */
  rotationGraceMs: number;
  checkJson: boolean;
  /** When a read finds less than a full batch, how long to wait for more lines before sending (0 = never). */
  lingerMs: number;
  /** Where lines that are not spans go (undefined: counted and dropped). */
  deadLetters?: DeadLetterWriter;
  /** Delete rotated files shipped completely once older than this (0 = keep them). */
  retentionMs: number;
  /** Aborted on shutdown. */
  signal: AbortSignal;
  /** Where batches' messages are built; shared by the agent's streams (default: one per stream). */
  arenas?: ArenaPool;
}

/**
 * Message arenas for batches, reused: one is taken per batch and given back once the batch is
 * acknowledged (or dropped). A busy stream uses two at a time (the batch in flight and the next,
 * built ahead); `keep` bounds what is held while streams are idle.
 */
export class ArenaPool {
  readonly #free: MessageArena[] = [];

  constructor(
    private readonly bytes: number,
    private readonly keep = 4,
  ) {}

  /** Room for the messages of a batch of `limits`: its bytes plus per line a key, brackets and a comma. */
  static forLimits(limits: ReaderLimits, keep?: number): ArenaPool {
    return new ArenaPool(limits.maxBytes + 18 * limits.maxLines + 16 * Math.ceil(limits.maxLines / CHUNK_LINES), keep);
  }

  acquire(): MessageArena {
    return this.#free.pop() ?? new MessageArena(this.bytes);
  }

  release(arena: MessageArena): void {
    arena.reset();
    if (this.#free.length < this.keep) this.#free.push(arena);
  }
}

/** What a stream is doing, for /health and logs. */
export interface StreamStatus {
  stream: string;
  file: string | undefined;
  offset: number;
  lagBytes: number;
}

/**
 * The processing loop of one log stream (Singer's LogStreamProcessor): read a bounded batch of
 * complete lines → build one message per trace → send and wait for the acks → then write the
 * watermark. Write first, checkpoint second: at-least-once, and a crash re-sends at most the
 * batch in flight. When the file is read to its end and has been rotated away, the next newer
 * file is opened; otherwise the loop waits for a directory event or the poll interval.
 */
export class StreamProcessor {
  private readonly reader: StreamReader;
  private readonly log: Logger;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** When the current file was first seen rotated and exhausted (for rotationGraceMs). */
  private exhaustedSince: number | undefined;
  private mustCommit = false;
  /** The next batch, built ahead; used by the next step if the file still matches. */
  private prepared: Prepared | undefined;
  private lineLimit: number;
  private lagBytes = 0;
  private readonly arenas: ArenaPool;
  /** A per-process stream (`<service>@<instance>.jsonl`): its writer can die, and its files go with it. */
  private readonly perProcess: boolean;
  private retired = false;

  constructor(private readonly o: StreamProcessorOptions) {
    this.log = o.log.child({ stream: o.stream });
    this.arenas = o.arenas ?? ArenaPool.forLimits(o.limits, 2);
    this.lineLimit = o.limits.maxLines;
    this.perProcess = perProcessSpanFile(o.stream) !== undefined;
    this.reader = new StreamReader(o.limits, {
      onTruncated: (info) => {
        o.metrics.truncations.inc({ stream: o.stream });
        this.mustCommit = true;
        this.log.warn(info, info.rewritten ? 'file content was replaced; reading it again from 0' : 'file was truncated; reading it again from 0');
      },
    });
  }

  get name(): string {
    return this.o.stream;
  }

  status(): StreamStatus {
    return { stream: this.o.stream, file: this.reader.path || undefined, offset: this.reader.offset, lagBytes: this.lagBytes };
  }

  /** Starts the loop (idempotent). */
  start(): void {
    this.loop ??= this.run().catch((err: unknown) => {
      this.log.error({ err }, 'stream processor stopped on an unexpected error');
    });
  }

  /** Something changed in the directory: look again now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * True when the stream has nothing left: no file open and none in the directory (a finished
   * per-process stream, or one whose files were all removed). The agent then retires it.
   */
  async drained(): Promise<boolean> {
    if (this.reader.isOpen) return false;
    return (await listStreamFiles(this.o.dir, this.o.stream)).length === 0;
  }

  /** Ends the loop of a drained stream; resolves when it has ended. */
  async retire(): Promise<void> {
    this.retired = true;
    this.o.metrics.lag.remove({ stream: this.o.stream });
    await this.stopped();
  }

  /** Resolves when the loop has ended (after the in-flight batch was acknowledged or abandoned). */
  async stopped(): Promise<void> {
    this.wake();
    await this.loop;
    await this.reader.close();
  }

  private async run(): Promise<void> {
    const { signal } = this.o;
    const errors = new Backoff({ initialMs: 200, maxMs: 10_000 });
    while (!signal.aborted && !this.retired) {
      try {
        if (!this.reader.isOpen) {
          if (!(await this.openStart())) {
            await this.idle();
            continue;
          }
        }
        const progressed = await this.step();
        errors.reset();
        if (!progressed) await this.idle();
      } catch (err) {
        this.o.metrics.errors.inc({ kind: err instanceof AgentError && err.code === 'AGENT_WATERMARK_WRITE' ? 'watermark_write' : 'read' });
        this.log.error({ err }, 'stream step failed; retrying');
        await sleep(errors.next(), signal);
      }
    }
  }

  /** Opens the file to start from (watermark, else the oldest file). False when there is none yet (or it was rotated as it was opened). */
  private async openStart(): Promise<boolean> {
    const { stream, store, metrics } = this.o;
    let wm: Watermark | undefined;
    let corrupt = false;
    try {
      wm = await store.load(stream);
    } catch (err) {
      if (!(err instanceof AgentError && err.code === 'AGENT_WATERMARK_CORRUPT')) throw err;
      this.log.error({ err }, 'corrupt watermark; starting the stream from its oldest file');
      corrupt = true;
    }
    const files = await listStreamFiles(this.o.dir, stream);
    const point = await findResumePoint(files, wm);
    const reset = corrupt ? 'corrupt' : point.kind === 'resume' ? undefined : point.reset;
    if (reset !== undefined) {
      metrics.watermarkResets.inc({ stream, reason: reset });
      if (reset === 'inode_reused') metrics.inodeReuses.inc({ stream });
      this.log.warn({ reason: reset, watermark: wm }, 'watermark file not found as recorded; starting from the oldest file (lines may be sent again)');
    }
    if (point.kind === 'empty') return false;
    if (point.kind === 'resume') {
      this.reader.adopt(point.fh, point.identity, point.path, point.offset);
      if (point.truncated) {
        metrics.truncations.inc({ stream });
        this.log.warn({ path: point.path, offset: wm?.offset }, 'file is shorter than the watermark (truncated); reading it again from 0');
      }
      this.log.info({ path: point.path, offset: point.offset }, 'resuming from watermark');
      if (point.truncated) await this.commit(0);
    } else {
      if (!(await this.reader.open(point.file.path, 0, point.file))) return false; // rotated since the listing
      this.log.info({ path: point.file.path }, 'starting stream');
      await this.commit(0);
    }
    return true;
  }

  /** One read-send-commit round, or moving on to the next file. True when something happened. */
  private async step(): Promise<boolean> {
    const prepared = this.prepared;
    this.prepared = undefined;
    if (prepared !== undefined) {
      if (await this.reader.readAheadUsable(prepared.batch)) {
        this.exhaustedSince = undefined;
        return this.ship(prepared.batch, prepared);
      }
      this.arenas.release(prepared.arena);
    }
    let batch = await this.reader.read(this.lineLimit);
    if (batch !== undefined && this.shouldLinger(batch)) {
      // Batching with linger: a short batch waits a moment for the writer's next lines, then the
      // same position is read again (nothing was sent or committed yet).
      await sleep(this.o.lingerMs, this.o.signal);
      if (!this.o.signal.aborted && !this.mustCommit) batch = (await this.reader.read(this.lineLimit)) ?? batch;
    }
    if (this.mustCommit) await this.commit(this.reader.offset);
    if (batch !== undefined) {
      this.exhaustedSince = undefined;
      return this.ship(batch);
    }
    if (await this.moveOnIfRotated()) return true;
    return false;
  }

  private shouldLinger(batch: ReadBatch): boolean {
    const { lingerMs, limits } = this.o;
    if (lingerMs <= 0 || batch.oversizedBytes > 0 || this.reader.inLongLine) return false;
    return batch.lineCount < this.lineLimit && batch.end - batch.start < limits.maxBytes / 2;
  }

  /**
   * How a batch becomes messages: in chunks of CHUNK_LINES lines, built lazily, with the counts
   * of what was shipped and skipped filled in as the chunks are built. Messages group a trace's
   * spans per chunk.
   */
  private plan(batch: ReadBatch): Plan {
    const built: Built = { spans: 0, skipped: {}, samples: [], rejects: [], oversizedBytes: 0 };
    const arena = this.arenas.acquire();
    const options = { checkJson: this.o.checkJson, collectRejects: this.o.deadLetters !== undefined, maxLineBytes: this.o.limits.maxLineBytes, arena };
    function* chunks(): Generator<KafkaMessage[]> {
      for (let from = 0; from < batch.lineCount; from += CHUNK_LINES) {
        const to = Math.min(batch.lineCount, from + CHUNK_LINES);
        const part = buildMessagesFromBytes(
          { bytes: batch.bytes!, starts: batch.lineStarts!.subarray(from, to), ends: batch.lineEnds!.subarray(from, to), count: to - from },
          options,
        );
        built.spans += part.spans;
        built.oversizedBytes += part.oversizedBytes;
        for (const [reason, n] of Object.entries(part.skipped) as Array<[SkipReason, number]>) built.skipped[reason] = (built.skipped[reason] ?? 0) + n;
        for (const sample of part.samples) if (built.samples.length < 3) built.samples.push(sample);
        built.rejects.push(...part.rejects);
        yield part.messages;
      }
    }
    return { batch, chunks: chunks(), built, arena };
  }

  /**
   * While a batch is being sent: read the next one and build all its messages, yielding to the
   * event loop between chunks (acks keep coming in). Only a full batch is prepared; a short one
   * is left to the normal read, which lingers for more lines. Nothing of it is sent before the
   * batch in flight is acknowledged and committed, so a crash still re-sends at most one batch.
   */
  private async prepareNext(batch: ReadBatch): Promise<Prepared | undefined> {
    const next = await this.reader.readAhead(batch, this.lineLimit);
    if (next === undefined || this.shouldLinger(next) || this.o.signal.aborted) return undefined;
    const plan = this.plan(next);
    const chunks: KafkaMessage[][] = [];
    for (const chunk of plan.chunks) {
      chunks.push(chunk);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { ...plan, chunks };
  }

  private async ship(batch: ReadBatch, prepared?: Prepared): Promise<boolean> {
    const { stream, metrics, writer, deadLetters } = this.o;
    // The lines are bytes of the reader's buffer; two reads since (linger's re-read that found
    // nothing, a read-ahead) may have overwritten them: then nothing moves and the next step
    // reads them again.
    if (batch.lineCount > 0 && !this.reader.holds(batch)) {
      if (prepared !== undefined) this.arenas.release(prepared.arena);
      return true;
    }
    const { chunks, built, arena } = prepared ?? this.plan(batch);
    // The client compresses and sends chunk by chunk while the next chunk is built, and the
    // next batch is read and built while this one waits for its acks.
    const sending = writer.writeChunks(chunks);
    const next = this.prepareNext(batch).catch(() => undefined);
    const result = await sending;
    // Acknowledged, given up or stopped: no send refers to the messages any more.
    this.arenas.release(arena);
    const halving = result === 'too_large' && batch.lineCount > 1;
    // Counted as the acks arrive, not after the read-ahead: /metrics agrees with the broker.
    if (result !== 'stopped' && !halving) this.count(batch, built, result);
    const ahead = await next;
    if (result === 'stopped') return false;
    if (halving) {
      this.lineLimit = Math.max(1, Math.floor(batch.lineCount / 2));
      this.log.warn({ lines: batch.lineCount, nextLimit: this.lineLimit }, 'batch too large for the broker; halving it');
      return true;
    }
    this.lineLimit = this.o.limits.maxLines;
    if (deadLetters !== undefined) {
      const rejects = built.rejects;
      if (batch.oversizedHead !== undefined) rejects.push({ reason: 'oversized_line', line: batch.oversizedHead });
      await deadLetters.send(stream, this.reader.path, batch.start, rejects);
    }
    this.reader.advance(batch.end);
    metrics.bytes.inc({ stream }, batch.end - batch.start);
    await this.commit(batch.end);
    this.prepared = ahead;
    return true;
  }

  /** Counts a batch the broker acknowledged, or gave up on as one line too large. */
  private count(batch: ReadBatch, built: Built, result: WriteResult): void {
    const { stream, metrics } = this.o;
    if (result === 'too_large') {
      metrics.skippedLines.inc({ stream, reason: 'too_large' });
      this.log.error({ bytes: batch.end - batch.start }, 'one span line is larger than the broker accepts; skipped');
    } else if (built.spans > 0) {
      metrics.lines.inc({ stream }, built.spans);
    }
    for (const [reason, n] of Object.entries(built.skipped)) metrics.skippedLines.inc({ stream, reason }, n);
    if (built.samples.length > 0) this.log.warn({ skipped: built.skipped, samples: built.samples }, 'lines that are not spans were skipped');
    if (built.oversizedBytes > 0) metrics.skippedBytes.inc({ stream, reason: 'oversized_line' }, built.oversizedBytes);
    if (batch.oversizedBytes > 0) {
      metrics.skippedBytes.inc({ stream, reason: 'oversized_line' }, batch.oversizedBytes);
      if (batch.oversizedHead !== undefined) {
        metrics.skippedLines.inc({ stream, reason: 'oversized_line' });
        this.log.warn({ offset: batch.start, maxBytes: this.o.limits.maxBytes }, 'line longer than the read buffer skipped');
      }
    }
  }

  /**
   * At the end of a file that is no longer the live one: once a newer file exists (and has data,
   * or the grace time passed), skip any partial last line, open the newer file and commit it.
   */
  private async moveOnIfRotated(): Promise<boolean> {
    const { stream, dir, metrics } = this.o;
    const files = await listStreamFiles(dir, stream);
    const current = this.reader.identity;
    const idx = files.findIndex((f) => sameInode(f, current));
    if (idx >= 0) {
      if (files[idx].path !== this.reader.path) this.reader.relocate(files[idx].path);
      if (files[idx].live) return this.sealIfAbandoned(files[idx]);
    }
    const next = idx >= 0 ? files[idx + 1] : await this.nextAfterVanished(files);
    if (next === undefined) return idx < 0 ? this.releaseIfDeleted() : this.finishIfDone(files[idx]);
    const now = Date.now();
    this.exhaustedSince ??= now;
    if (next.size === 0 && now - this.exhaustedSince < this.o.rotationGraceMs) return false;
    if (await this.reader.grewSinceRead()) return true; // a last line arrived: read it first
    const tail = await this.reader.remaining();
    if (tail > 0) {
      metrics.skippedBytes.inc({ stream, reason: 'partial_tail' }, tail);
      metrics.bytes.inc({ stream }, tail);
      this.log.warn({ path: this.reader.path, bytes: tail }, 'rotated file ends without a newline; its last partial line is skipped');
    }
    const from = this.reader.path;
    if (!(await this.reader.open(next.path, 0, next))) return true; // rotated since the listing: look again
    await this.commit(0);
    this.exhaustedSince = undefined;
    metrics.rotations.inc({ stream });
    this.log.info({ from, to: next.path }, 'finished rotated file; moving on');
    await this.applyRetention();
    return true;
  }

  /**
   * The file being read was deleted and nothing newer exists: once it is read to its end, close
   * it so the disk space is released (a held handle keeps a deleted file's blocks), and forget the
   * watermark; the stream starts again at the next file that appears.
   */
  private async releaseIfDeleted(): Promise<boolean> {
    const { stream, metrics, store } = this.o;
    const st = await this.reader.stat();
    if (st.nlink !== 0) return false;
    if (await this.reader.grewSinceRead()) return true;
    const tail = await this.reader.remaining();
    if (tail > 0) metrics.skippedBytes.inc({ stream, reason: 'deleted_unread' }, tail);
    const path = this.reader.path;
    await this.reader.close();
    await store.remove(stream);
    metrics.releasedFiles.inc({ stream });
    this.log.info({ path, unreadBytes: tail }, 'file was deleted; handle closed and its space released');
    return true;
  }

  /**
   * A per-process live file, read as far as it goes, that nobody has written to for the
   * retention time (and at least SPAN_FILE_ABANDONED_IDLE_MS): its process is gone (crashed or
   * killed without sealing it). Sealed the way its writer would have: renamed like a rotation.
   * A rename, not a deletion, because a writer that is only idle still holds it: what it appends
   * lands in the renamed file, which this loop keeps reading; and such a writer re-checks its
   * file's name before writing after SPAN_FILE_RECHECK_IDLE_MS idle, so it opens a new live file
   * instead of going on in this one. Only with retention on: sealing is the first step to removal.
   */
  private async sealIfAbandoned(live: StreamFile): Promise<boolean> {
    const { retentionMs, metrics } = this.o;
    if (!this.perProcess || retentionMs <= 0) return false;
    const idleMs = Date.now() - Number(live.mtimeNs / 1_000_000n);
    if (idleMs < Math.max(retentionMs, SPAN_FILE_ABANDONED_IDLE_MS)) return false;
    if (await this.reader.grewSinceRead()) return true;
    const sealed = `${live.path}.${Date.now()}`;
    try {
      // the live name has one writer, which rotates to numeric suffixes from its own clock; a
      // name already taken is left alone and the next poll tries a later millisecond
      await stat(sealed);
      return false;
    } catch {
      // free
    }
    try {
      await rename(live.path, sealed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
      metrics.errors.inc({ kind: 'retention' });
      this.log.warn({ err, path: live.path }, 'cannot seal an abandoned span file');
      return false;
    }
    this.reader.relocate(sealed);
    this.log.info({ from: live.path, to: sealed, idleMs }, 'per-process span file idle past retention: its writer is gone; sealed');
    return true;
  }

  /**
   * The newest file of a per-process stream that has no live file any more (its writer sealed
   * it at exit, or sealIfAbandoned did): once every complete line was shipped (the step before
   * found none) and it is older than the retention, it is deleted; releaseIfDeleted then closes
   * it and forgets the watermark, and the agent retires the drained stream.
   */
  private async finishIfDone(last: StreamFile): Promise<boolean> {
    const { retentionMs, metrics, stream } = this.o;
    if (!this.perProcess || retentionMs <= 0 || last.live) return false;
    if (Date.now() - Number(last.mtimeNs / 1_000_000n) < retentionMs) return false;
    if (await this.reader.grewSinceRead()) return true;
    // Deleting the last file forgets the watermark, so the stream would start again at whatever
    // older file is still there: those go first (shipped, and older than this one), and the last
    // file only once it is the stream's only file.
    await this.applyRetention();
    const left = await listStreamFiles(this.o.dir, stream);
    if (left.length !== 1 || !sameInode(left[0]!, last)) return false;
    try {
      const st = await stat(last.path);
      if (st.ino !== last.ino || st.dev !== last.dev) return false;
      await unlink(last.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        metrics.errors.inc({ kind: 'retention' });
        this.log.warn({ err, path: last.path }, 'retention cleanup failed');
        return false;
      }
    }
    metrics.retentionDeletes.inc({ stream });
    this.log.info({ removed: [last.path] }, 'per-process stream shipped completely and past retention; its last file deleted');
    return this.releaseIfDeleted();
  }

  /** Deletes shipped rotated files older than the retention (when configured). */
  async applyRetention(): Promise<void> {
    const { retentionMs, metrics, stream } = this.o;
    if (retentionMs <= 0 || !this.reader.isOpen) return;
    try {
      const removed = await removeShippedFiles(await listStreamFiles(this.o.dir, stream), this.reader.identity, retentionMs);
      if (removed.length > 0) {
        metrics.retentionDeletes.inc({ stream }, removed.length);
        this.log.info({ removed }, 'deleted shipped rotated files past retention');
      }
    } catch (err) {
      metrics.errors.inc({ kind: 'retention' });
      this.log.warn({ err }, 'retention cleanup failed');
    }
  }

  /** The current file was deleted while open: the oldest file not older than it comes next. */
  private async nextAfterVanished(files: StreamFile[]): Promise<StreamFile | undefined> {
    const { mtimeMs } = await this.reader.stat();
    return files.find((f) => Number(f.mtimeNs / 1_000_000n) >= Math.floor(mtimeMs)) ?? files.at(-1);
  }

  private async commit(offset: number): Promise<void> {
    const { store, stream, metrics } = this.o;
    const id = this.reader.identity;
    await store.save({ version: 1, stream, file: { ...id, path: this.reader.path }, offset, committedAt: Date.now() });
    this.mustCommit = false;
    metrics.watermarkCommits.inc({ stream });
  }

  /**
   * Recomputes the lag gauge: bytes after the committed position in the current file plus every
   * newer file. Called from the agent's poll tick, so it stays current while a send is retrying.
   */
  async refreshLag(): Promise<void> {
    if (!this.reader.isOpen) return;
    const current = this.reader.identity;
    const files = await listStreamFiles(this.o.dir, this.o.stream);
    const idx = files.findIndex((f) => sameInode(f, current));
    let lag = await this.reader.remaining();
    if (idx >= 0) for (const f of files.slice(idx + 1)) lag += f.size;
    this.lagBytes = lag;
    this.o.metrics.lag.set({ stream: this.o.stream }, lag);
  }

  /** Waits for wake(), the poll interval or shutdown. */
  private async idle(): Promise<void> {
    if (this.o.signal.aborted) return;
    if (this.woken) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.o.signal.removeEventListener('abort', done);
        this.wakeUp = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, this.o.pollIntervalMs);
      timer.unref();
      this.wakeUp = done;
      this.o.signal.addEventListener('abort', done, { once: true });
    });
  }
}
