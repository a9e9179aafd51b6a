import { createHash } from 'node:crypto';
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { contentHash, parseDeciderValues, type DeciderValues } from './decider-values.js';

/** pino-shaped logger (a pino logger fits). */
export interface DeciderLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface FileDeciderOptions {
  /** The managed-hashmap JSON file. */
  path: string;
  /** Poll period in ms, the fallback when fs.watch misses an event. Default 1000. */
  pollMs?: number;
  /** Wait this long after a watch event before reading (editors write in steps). Default 20. */
  debounceMs?: number;
  logger?: DeciderLogger;
}

/** Counters since creation. */
export interface FileDeciderStats {
  /** Times new content was swapped in (the initial load included). */
  reloads: number;
  /** Times the file held content that could not be used (the last good map stayed). */
  errors: number;
  /** When the map in force was loaded (epoch ms), 0 if never. */
  loadedAt: number;
}

type ChangeListener = (values: DeciderValues) => void;

const consoleLogger: DeciderLogger = {
  info: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'info', component: 'pintrace-decider', msg, ...obj })}\n`),
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', component: 'pintrace-decider', msg, ...obj })}\n`),
  error: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'error', component: 'pintrace-decider', msg, ...obj })}\n`),
};

/**
 * A KingPin-style decider backed by a local JSON file, hot-reloaded without restart.
 *
 * - Read synchronously at construction, so the first decision already uses the file. A missing
 *   file is an empty map (every lookup gets its default) until it appears.
 * - Reload: `fs.watch` on the file's *directory* (an atomic rename replaces the inode, which a
 *   watch on the file itself would lose) plus a poll of `stat` every `pollMs` as the fallback.
 *   Either only triggers a read; the new map is swapped in only when the content hash changed.
 * - A bad file (not JSON, a value outside 0..100) keeps the last good map, counts an error and
 *   logs it once per distinct bad content. Each swap logs the names that changed.
 * - Lookups (`getValue`, `decide`, ...) read one immutable Map: no I/O on the request path.
 * Timers and watchers are unref'ed; `shutdown()` stops them.
 */
export class FileDecider {
  readonly path: string;
  private values: DeciderValues = new Map();
  private readonly logger: DeciderLogger;
  private readonly pollMs: number;
  private readonly debounceMs: number;
  private readonly listeners = new Set<ChangeListener>();
  private readonly counters: FileDeciderStats = { reloads: 0, errors: 0, loadedAt: 0 };
  private lastHash: string | undefined;
  private lastStat = '';
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: FileDeciderOptions) {
    if (typeof options.path !== 'string' || options.path.length === 0) {
      throw new TypeError('FileDecider: set `path` to the decider JSON file');
    }
    this.path = resolve(options.path);
    this.logger = options.logger ?? consoleLogger;
    this.pollMs = options.pollMs ?? 1000;
    this.debounceMs = options.debounceMs ?? 20;
    if (!(this.pollMs > 0) || !(this.debounceMs >= 0)) throw new TypeError('FileDecider: pollMs must be > 0 and debounceMs ≥ 0');
    this.reload();
    this.startWatching();
  }

  /** The value of `name` (case-insensitive), or `defaultValue` when unset. */
  getValue(name: string, defaultValue = 0): number {
    const value = this.values.get(name.toLowerCase());
    return value === undefined ? defaultValue : value;
  }

  /** KingPin `decide_experiment`: 100 → true, 0 → false, else random with probability value %. */
  decide(name: string, defaultValue = false): boolean {
    const value = this.getValue(name, defaultValue ? 100 : 0);
    if (value >= 100) return true;
    if (value <= 0) return false;
    return Math.random() * 100 < value;
  }

  /**
   * KingPin `is_hashed_id_in_experiment`: `md5("decider_" + name + id) mod 100 < value`, sticky per
   * id and independent per decider; the same result as KingPin's Python and Singer's Java.
   */
  isHashedIdIn(name: string, id: string | number): boolean {
    const key = name.toLowerCase();
    const value = this.getValue(key);
    const digest = createHash('md5')
      .update(`decider_${key}${String(id)}`)
      .digest('hex');
    return Number(BigInt(`0x${digest}`) % 100n) < value;
  }

  /** The map in force (immutable). */
  all(): DeciderValues {
    return this.values;
  }

  /** Calls `listener` with each new map (not with the current one). Returns an unsubscribe. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): FileDeciderStats {
    return { ...this.counters };
  }

  /**
   * Reads the file now and swaps in its content when it changed and is valid. Returns true when
   * the map changed. Never throws.
   */
  reload(): boolean {
    let content: Buffer;
    try {
      content = readFileSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        if (this.lastHash !== 'missing') {
          if (this.lastHash !== undefined) this.logger.warn({ path: this.path }, 'decider file is gone; keeping the last values');
          else this.logger.warn({ path: this.path }, 'decider file does not exist yet; defaults apply until it does');
          this.lastHash = 'missing';
        }
        return false;
      }
      this.counters.errors++;
      this.logger.error({ path: this.path, err: { message: (err as Error).message } }, 'decider file unreadable; keeping the last values');
      return false;
    }
    const hash = contentHash(content);
    if (hash === this.lastHash) return false;
    this.lastHash = hash;
    let next: DeciderValues;
    try {
      next = parseDeciderValues(content.toString('utf8'));
    } catch (err) {
      this.counters.errors++;
      this.logger.error(
        { path: this.path, errors: this.counters.errors, reason: (err as Error).message },
        'decider file rejected; keeping the last good values',
      );
      return false;
    }
    const previous = this.values;
    const changes = diff(previous, next);
    this.values = next;
    this.counters.reloads++;
    this.counters.loadedAt = Date.now();
    if (changes.length === 0 && this.counters.reloads > 1) return false;
    this.logger.info({ path: this.path, changes }, this.counters.reloads === 1 ? 'decider loaded' : 'decider changed');
    for (const listener of this.listeners) {
      try {
        listener(next);
      } catch (err) {
        this.logger.error({ err: { message: (err as Error).message } }, 'decider change listener threw');
      }
    }
    return true;
  }

  /** Stops watching and polling. Idempotent. */
  shutdown(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poller) clearInterval(this.poller);
    if (this.debounce) clearTimeout(this.debounce);
    this.listeners.clear();
    return Promise.resolve();
  }

  private startWatching(): void {
    this.watchDirectory();
    this.poller = setInterval(() => this.poll(), this.pollMs);
    this.poller.unref();
  }

  private watchDirectory(): void {
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename.toString() === name) this.scheduleReload();
      });
      this.watcher.on('error', () => {
        // e.g. the directory was removed: the poll goes on and watches again later
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // no directory yet, or no inotify: polling covers it
    }
  }

  private scheduleReload(): void {
    if (this.stopped || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (!this.stopped) this.reload();
    }, this.debounceMs);
    this.debounce.unref();
  }

  private poll(): void {
    if (this.stopped) return;
    let signature: string;
    try {
      const st = statSync(this.path, { bigint: true });
      signature = `${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      signature = 'missing';
    }
    if (signature === this.lastStat) return;
    this.lastStat = signature;
    if (!this.watcher) this.watchDirectory();
    this.reload();
  }
}

/** `name: old → new` for each name that differs. */
function diff(before: DeciderValues, after: DeciderValues): string[] {
  const out: string[] = [];
  for (const [name, value] of after) {
    const old = before.get(name);
    if (old !== value) out.push(`${name}: ${old === undefined ? 'unset' : old} → ${value}`);
  }
  for (const [name, old] of before) if (!after.has(name)) out.push(`${name}: ${old} → unset`);
  return out.sort();
}
