import { renameSync, statSync, unlinkSync } from 'node:fs';
import { mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isSpanFileServiceName, newSpanFileInstance, SPAN_FILE_RECHECK_IDLE_MS, spanFileName } from '@pintrace/model';
import { stderrLogger, type DiagnosticLogger } from '../diagnostics.js';
import { TracingConfigError } from '../errors.js';
import type { FinishedSpan } from '../trace/finished-span.js';
import type { SpanSink } from '../trace/span-sink.js';
import { encodeSpanJsonInto, encodeSpanJsonLine } from '../zipkin/span-json.js';

/** Size of one buffer of encoded spans: one write call per this many bytes of spans at most. */
const CHUNK_BYTES = 256 * 1024;
/** Most bytes appended by one write call. */
const WRITE_BYTES = 1024 * 1024;
/**
 * Written buffers kept for reuse (the one being filled is not counted): one write's worth, so a
 * busy logger fills recycled buffers instead of fresh memory, whose every page the kernel has to
 * fault in and zero (one fault per 4 KiB of spans, charged to the process as system time).
 */
const SPARE_CHUNKS = WRITE_BYTES / CHUNK_BYTES;
/** Spans accepted before they are encoded, together (see SpanLogger). */
const ENCODE_BATCH = 64;

/** Encoded span lines waiting to be written: `buffer[0, used)` holds `count` spans. */
interface Chunk {
  buffer: Buffer;
  used: number;
  count: number;
}

export interface SpanLoggerOptions {
  /** Directory of the span files; created if missing. */
  dir: string;
  /** File name stem: spans go to `<dir>/<serviceName>@<instance>.jsonl` (or `<serviceName>.jsonl`, see `fileLayout`). */
  serviceName: string;
  /**
   * `per-process` (default): this logger has a file of its own, `<serviceName>@<instance>.jsonl`,
   * so any number of processes of a service can share the directory (cluster mode, PM2,
   * containers sharing a hostPath) and none ever renames another's file. On shutdown the file is
   * sealed (renamed like a rotation) so the agent knows no one writes it any more.
   * `per-service`: `<serviceName>.jsonl`, the first layout; safe only with one process per service
   * per directory (rotations of two processes in one millisecond replace each other's file).
   */
  fileLayout?: 'per-process' | 'per-service';
  /** The per-process file's instance id (`[A-Za-z0-9_-]`). Default: pid and a random part. */
  instance?: string;
  /** Spans waiting to be written; when full, new spans are dropped and counted. Default 10000. */
  maxQueue?: number;
  /** Queued spans that start a write at once, without waiting for the timer. Default 1000. */
  maxBatch?: number;
  /** Flush period in ms (a full batch flushes at once). Default 200. */
  flushIntervalMs?: number;
  /** Rotate before the file would exceed this many bytes. Default 64 MiB. */
  rotateBytes?: number;
  /** Rotate a file that has been written to for this long (ms). Default 1 hour. */
  rotateAgeMs?: number;
  logger?: DiagnosticLogger;
}

/** Counters since creation. */
export interface SpanLoggerStats {
  /** Spans queued. */
  accepted: number;
  /** Spans written to the file. */
  written: number;
  /** Spans lost: queue full, after shutdown, or in a failed write. */
  dropped: number;
  /** Spans that could not be encoded (also counted in dropped). */
  encodeErrors: number;
  /** Write or open calls that failed. */
  writeErrors: number;
  rotations: number;
  /** Spans waiting now. */
  queued: number;
}

/**
 * Appends finished sampled spans to its span file (`<dir>/<serviceName>@<instance>.jsonl`, one per
 * logger, or `<dir>/<serviceName>.jsonl`; see `fileLayout`), one Zipkin v2 JSON span per line,
 * for the logger agent to ship. `accept` queues the span (bounded by `maxQueue` spans; never
 * blocks, never throws); every 64th accepted span, or a flush, encodes the queued spans into an
 * in-memory buffer of lines; a timer or a full batch triggers a flush, which appends the buffered
 * lines with one asynchronous write per 256 KiB on a single open file descriptor.
 *
 * Why encode 64 spans at a time, on the request path: the encoder's code and tables then stay in
 * the CPU's caches for all 64, where a span encoded alone between requests found them evicted by
 * the requests' own work, which made a busy HTTP server measurably slower, at 0.3 % sampling
 * and at 100 % (bench/README.md, tracer, 2026-12-06, session 20). A span kept as an object until the
 * next flush instead (tens of milliseconds in a busy server) survives a young-generation GC or
 * two and is copied by each; 64 spans are queued for a millisecond or so when many arrive, and a
 * flush encodes those of a quiet service. A span is read by the encoder
 * after it ended: values it holds by reference (an array attribute, an event's attributes) must
 * not change after `end`, as with OpenTelemetry's batching span processor.
 *
 * Rotation by rename: before a write that would take the file past `rotateBytes`, or once the
 * file is older than `rotateAgeMs`, the file is renamed to `<live name>.<epoch-ms>`
 * (strictly increasing per logger) and a new one is opened. A tailer that holds the old file open
 * reads it to the end, then follows the new one.
 *
 * Spans still queued when the process runs out of work are written on 'beforeExit'; call
 * `shutdown()` on SIGTERM.
 *
 * When the queue is full, spans are dropped and counted; a run of drops is logged once, with its
 * count, when the next flush has made room again (never on the request path).
 */
export class SpanLogger implements SpanSink {
  readonly path: string;
  private readonly dir: string;
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly rotateBytes: number;
  private readonly rotateAgeMs: number;
  private readonly logger: DiagnosticLogger;
  private readonly timer: NodeJS.Timeout;
  private readonly onBeforeExit: () => void;
  private readonly onExit: () => void;
  private readonly perProcess: boolean;
  /** Last time a write to the open file completed (ms); an idle file is re-checked before use. */
  private lastWriteAt = 0;

  /** Full chunks waiting to be written, oldest first, and the one being filled. */
  private chunks: Chunk[] = [];
  private current: Chunk | undefined;
  private readonly spare: Buffer[] = [];
  /** Spans accepted and not yet encoded, oldest first. */
  private readonly unencoded: FinishedSpan[] = [];
  private readonly encodeBatch: number;
  /** Spans encoded and not yet taken for writing. */
  private pending = 0;
  /** The first encode error, logged by the next flush (never on the request path). */
  private encodeError: unknown;
  private file: FileHandle | undefined;
  private fileBytes = 0;
  private fileOpenedAt = 0;
  private lastRotationMs = 0;
  private draining: Promise<void> | undefined;
  private flushScheduled = false;
  /** Spans ever queued, and ever taken off the queue for writing: a flush waits for the first. */
  private enqueued = 0;
  private dequeued = 0;
  private dropRun = 0;
  private failing = false;
  private closed = false;
  private sealed = false;
  private stopping: Promise<void> | undefined;
  private readonly counters = { accepted: 0, written: 0, dropped: 0, encodeErrors: 0, writeErrors: 0, rotations: 0 };

  constructor(options: SpanLoggerOptions) {
    if (typeof options.dir !== 'string' || options.dir.length === 0) {
      throw new TracingConfigError('span logger: set `dir` (spansDir) to the directory the span files go to');
    }
    if (typeof options.serviceName !== 'string' || !isSpanFileServiceName(options.serviceName)) {
      throw new TracingConfigError(
        `span logger: serviceName must be a non-empty file-name-safe string ([A-Za-z0-9._-]), got ${JSON.stringify(options.serviceName)}`,
      );
    }
    const layout = options.fileLayout ?? 'per-process';
    if (layout !== 'per-process' && layout !== 'per-service') {
      throw new TracingConfigError(`span logger: fileLayout must be 'per-process' or 'per-service', got ${JSON.stringify(layout)}`);
    }
    if (options.instance !== undefined && !/^[A-Za-z0-9_-]+$/.test(options.instance)) {
      throw new TracingConfigError(`span logger: instance must be letters, digits, '_' or '-', got ${JSON.stringify(options.instance)}`);
    }
    this.perProcess = layout === 'per-process';
    this.dir = options.dir;
    this.path = join(options.dir, spanFileName(options.serviceName, this.perProcess ? (options.instance ?? newSpanFileInstance()) : undefined));
    this.maxQueue = positive('maxQueue', options.maxQueue, 10_000);
    this.maxBatch = positive('maxBatch', options.maxBatch, 1000);
    this.encodeBatch = Math.min(ENCODE_BATCH, this.maxBatch);
    this.rotateBytes = positive('rotateBytes', options.rotateBytes, 64 * 1024 * 1024);
    this.rotateAgeMs = positive('rotateAgeMs', options.rotateAgeMs, 60 * 60 * 1000);
    const interval = positive('flushIntervalMs', options.flushIntervalMs, 200);
    this.logger = options.logger ?? stderrLogger;
    this.timer = setInterval(() => {
      if (this.queued() > 0) void this.flush();
    }, interval);
    this.timer.unref();
    // The timer is unref'ed, so a process that ends on its own would lose the queue: write it out
    // when the event loop runs dry (the write keeps the process alive until it is done).
    this.onBeforeExit = () => {
      if (this.queued() > 0) void this.flush();
    };
    process.on('beforeExit', this.onBeforeExit);
    // A per-process file left behind without a seal waits for the agent to find it idle (minutes);
    // sealed at exit, it is shipped and removed on the agent's next retention pass.
    this.onExit = () => this.sealSync();
    if (this.perProcess) process.on('exit', this.onExit);
  }

  accept(span: FinishedSpan): void {
    const unencoded = this.unencoded;
    if (this.closed || this.pending + unencoded.length >= this.maxQueue) {
      this.counters.dropped++;
      this.dropRun++;
      return;
    }
    this.counters.accepted++;
    unencoded.push(span);
    if (unencoded.length >= this.encodeBatch) this.encodeQueued();
  }

  /** Encodes the queued spans; a full batch of encoded spans then schedules a flush. */
  private encodeQueued(): void {
    const unencoded = this.unencoded;
    for (let i = 0; i < unencoded.length; i++) {
      if (!this.encode(unencoded[i])) continue;
      this.enqueued++;
      this.pending++;
    }
    unencoded.length = 0;
    if (this.pending >= this.maxBatch && !this.flushScheduled && !this.draining) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        void this.flush();
      });
    }
  }

  /**
   * Resolves once every span accepted before the call is written (or counted as dropped). Writes
   * what is buffered when it starts; spans that arrive while a write is in flight wait for the
   * next timer tick or a full batch, so a busy service makes few large writes rather than one
   * small write per event-loop turn.
   */
  flush(): Promise<void> {
    this.encodeQueued();
    const upTo = this.enqueued;
    if (this.dequeued >= upTo) return this.draining ?? Promise.resolve();
    const previous = this.draining;
    const run = (previous ? previous.then(() => this.drain(upTo)) : this.drain(upTo)).finally(() => {
      if (this.draining === run) this.draining = undefined;
    });
    this.draining = run;
    return run;
  }

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.timer);
      process.off('beforeExit', this.onBeforeExit);
      process.off('exit', this.onExit);
      await this.flush();
      this.closed = true;
      if (this.dropRun > 0) this.endDropRun();
      await this.closeFile();
      this.sealSync();
    })();
    return this.stopping;
  }

  stats(): SpanLoggerStats {
    return { ...this.counters, queued: this.queued() };
  }

  private queued(): number {
    return this.pending + this.unencoded.length;
  }

  /**
   * Encodes the span at the end of the chunk being filled; a span that does not fit starts a new
   * chunk, and one bigger than a chunk gets a chunk of its own. False (counted as dropped) when it
   * could not be encoded.
   */
  private encode(span: FinishedSpan): boolean {
    try {
      let chunk = this.current ?? this.newChunk();
      let end = encodeSpanJsonInto(span, chunk.buffer, chunk.used);
      if (end < 0 && chunk.used > 0) {
        this.seal();
        chunk = this.newChunk();
        end = encodeSpanJsonInto(span, chunk.buffer, 0);
      }
      if (end < 0) {
        // bigger than a chunk (the chunk being filled is empty here, so the order is kept)
        const line = Buffer.from(encodeSpanJsonLine(span), 'utf8');
        this.chunks.push({ buffer: line, used: line.length, count: 1 });
        return true;
      }
      chunk.used = end;
      chunk.count++;
      return true;
    } catch (err) {
      this.counters.encodeErrors++;
      this.counters.dropped++;
      // the first one only, as a run of drops is logged once
      if (this.counters.encodeErrors === 1) this.encodeError = err;
      return false;
    }
  }

  private newChunk(): Chunk {
    const chunk = { buffer: this.spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES), used: 0, count: 0 };
    this.current = chunk;
    return chunk;
  }

  /** Moves the chunk being filled (when it holds spans) to the chunks waiting to be written. */
  private seal(): void {
    const chunk = this.current;
    if (chunk === undefined || chunk.count === 0) return;
    this.chunks.push(chunk);
    this.current = undefined;
  }

  private async drain(upTo: number): Promise<void> {
    try {
      while (this.dequeued < upTo && this.pending > 0) {
        // take everything buffered at once
        this.seal();
        const batch = this.chunks;
        this.chunks = [];
        let count = 0;
        for (const chunk of batch) count += chunk.count;
        this.dequeued += count;
        this.pending -= count;
        for (let i = 0; i < batch.length; ) {
          // up to WRITE_BYTES per write, in one system call (writev of the chunks, not a joined
          // copy into a fresh 1 MiB buffer, whose pages the kernel faulted in on every write):
          // one write per flush as before encoding moved to accept (with a write per 256 KiB
          // chunk, the agent test of many rotating processes saw lines shipped twice)
          let end = i;
          let bytes = 0;
          let count = 0;
          while (end < batch.length && (end === i || bytes + batch[end].used <= WRITE_BYTES)) {
            bytes += batch[end].used;
            count += batch[end].count;
            end++;
          }
          const parts: Buffer[] = [];
          for (let k = i; k < end; k++) parts.push(batch[k].buffer.subarray(0, batch[k].used));
          await this.append(parts, bytes, count);
          for (let k = i; k < end; k++) {
            // written: the buffer can take new spans (a one-span chunk of its own size is not kept)
            const buffer = batch[k].buffer;
            if (buffer.length === CHUNK_BYTES && this.spare.length < SPARE_CHUNKS) this.spare.push(buffer);
          }
          i = end;
        }
      }
      if (this.encodeError !== undefined) {
        const err = this.encodeError;
        this.encodeError = undefined;
        this.logger.warn({ err, encodeErrors: this.counters.encodeErrors }, 'span logger: span could not be encoded; dropped');
      }
      if (this.dropRun > 0) this.endDropRun();
    } catch (err) {
      this.logger.error({ err }, 'span logger: unexpected error while flushing');
    }
  }

  /**
   * Appends `parts` (`bytes` long in all, holding `count` spans) to the span file in one writev
   * (another for the rest after a short write); a failure drops and counts them.
   */
  private async append(parts: Buffer[], bytes: number, count: number): Promise<void> {
    try {
      const file = await this.fileFor(bytes);
      let left = parts;
      for (;;) {
        const { bytesWritten } = left.length === 1 ? await file.write(left[0]) : await file.writev(left);
        left = after(left, bytesWritten);
        if (left.length === 0) break;
      }
      this.fileBytes += bytes;
      this.lastWriteAt = Date.now();
      this.counters.written += count;
      if (this.failing) {
        this.failing = false;
        this.logger.info({ path: this.path }, 'span logger: writing again');
      }
    } catch (err) {
      this.counters.writeErrors++;
      this.counters.dropped += count;
      if (!this.failing) {
        this.failing = true;
        this.logger.error({ err, path: this.path, dropped: count }, 'span logger: write failed; spans dropped until a write succeeds');
      }
      await this.closeFile();
    }
  }

  /** The open file to append `bytes` to, rotating first when due. */
  private async fileFor(bytes: number): Promise<FileHandle> {
    if (this.file && Date.now() - this.lastWriteAt >= SPAN_FILE_RECHECK_IDLE_MS && !(await this.stillNamed(this.file))) {
      // renamed (sealed by the agent as abandoned) or deleted while idle: a new file, never
      // appending to one the agent may be about to remove
      await this.closeFile();
    }
    if (this.file) {
      const tooBig = this.fileBytes + bytes > this.rotateBytes;
      const tooOld = Date.now() - this.fileOpenedAt >= this.rotateAgeMs;
      if (this.fileBytes > 0 && (tooBig || tooOld)) await this.rotate();
    }
    if (!this.file) {
      await mkdir(this.dir, { recursive: true });
      const file = await open(this.path, 'a');
      try {
        this.fileBytes = (await file.stat()).size;
      } catch {
        this.fileBytes = 0;
      }
      this.fileOpenedAt = Date.now();
      this.lastWriteAt = this.fileOpenedAt;
      this.file = file;
      if (this.fileBytes > 0 && this.fileBytes + bytes > this.rotateBytes) await this.rotate();
    }
    if (!this.file) throw new Error('span file not open');
    return this.file;
  }

  private async rotate(): Promise<void> {
    await this.closeFile();
    const stamp = Math.max(Date.now(), this.lastRotationMs + 1);
    this.lastRotationMs = stamp;
    try {
      await rename(this.path, `${this.path}.${stamp}`);
      this.counters.rotations++;
    } catch (err) {
      // ENOENT: the agent sealed the file (renamed it) meanwhile; its data is shipped from there
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn({ err, path: this.path }, 'span logger: rotation rename failed; appending to the current file');
      }
    }
    const file = await open(this.path, 'a');
    this.fileBytes = (await file.stat()).size;
    this.fileOpenedAt = Date.now();
    this.lastWriteAt = this.fileOpenedAt;
    this.file = file;
  }

  /** True when `path` still names the open file (same device and inode). */
  private async stillNamed(file: FileHandle): Promise<boolean> {
    try {
      const [byName, open] = await Promise.all([stat(this.path), file.stat()]);
      return byName.ino === open.ino && byName.dev === open.dev;
    } catch {
      return false;
    }
  }

  /**
   * Per-process layout, once nothing more will be written: the file is renamed as a rotation
   * would (`<path>.<epoch-ms>`) when it holds data, removed when empty. No other process writes
   * this name, so nothing can replace it; the agent ships it and retention removes it.
   */
  private sealSync(): void {
    if (!this.perProcess || this.sealed) return;
    this.sealed = true;
    try {
      if (statSync(this.path).size === 0) unlinkSync(this.path);
      else renameSync(this.path, `${this.path}.${Math.max(Date.now(), this.lastRotationMs + 1)}`);
    } catch {
      // never written (no file), or already sealed by the agent: nothing to do
    }
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    if (!file) return;
    try {
      await file.close();
    } catch {
      // already closed or broken: nothing to keep
    }
  }

  private endDropRun(): void {
    const count = this.dropRun;
    this.dropRun = 0;
    this.logger.warn({ dropped: count, totalDropped: this.counters.dropped, maxQueue: this.maxQueue }, 'span logger: queue full; dropped spans');
  }
}

/** What is left of `parts` once their first `written` bytes are written. */
function after(parts: Buffer[], written: number): Buffer[] {
  let i = 0;
  while (i < parts.length && written >= parts[i].length) written -= parts[i++].length;
  if (i === parts.length) return [];
  const rest = parts.slice(i);
  rest[0] = rest[0].subarray(written);
  return rest;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new TracingConfigError(`span logger: ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}
