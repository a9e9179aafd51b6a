/**
 * Stage `dependencies`: streaming dependency links, so the Zipkin UI's graph works with no
 * batch job. Each closed trace is linked (dependency-linker.ts) and its links are added to
 * running totals per (UTC day of the trace, owner, parent, child); the owner is the Kafka
 * partition the trace came from (`<group>/<topic>/<partition>`), which one member owns at a
 * time. Every `flushMs` the changed totals are written as cumulative documents (storage's
 * ElasticsearchDependencyLinkWriter): rewriting a total is idempotent, and zipkin-server sums
 * the documents of all owners and days. Before the first write of a (day, owner) its existing
 * document totals are read and continued, so a restart or a new owner carries on the sums.
 *
 * Offsets: a trace's receipts gain one hold that is released only after the flush carrying its
 * links is durable, so a crash never loses counts of committed offsets. Counts are at-least-once:
 * a crash between a flush and the next commit counts the redelivered traces again.
 * Traces pass on downstream at once; only the receipts wait. After each flush an empty batch goes
 * down the pipe, so the commit stage commits what the flush released.
 *
 * State: the running totals and the waiting holds live in a `DependencyTotals` the pipeline
 * creates and passes to the operator (`linkDependencies`), so a rebalance changes a value the
 * pipeline owns (`revoke(keep)`); the operator adds closed traces and drives the flushes.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { DependencyLinkDocument } from '@pintrace/storage';
import type { Logger } from '@pintrace/runtime';
import type { DependencyLink } from '@pintrace/model';
import { linkTrace } from './dependency-linker.js';
import { partitionKey } from './group-by-trace.js';
import type { CollectorMetrics } from './metrics.js';
import type { Receipt } from './receipt.js';
import type { TraceBatch, TraceGroup } from './types.js';

/** The part of storage's dependency writer the stage uses. */
export interface DependencyStore {
  write(docs: readonly DependencyLinkDocument[]): Promise<void>;
  read(dayMillis: number, owner?: string): Promise<DependencyLinkDocument[]>;
}

export interface DependencyTotalsOptions {
  store: DependencyStore;
  metrics: CollectorMetrics;
  /** Consumer group, part of the owner of each document. */
  groupId: string;
  now?: () => number;
}

const DAY_MS = 86_400_000;

interface Bucket {
  dayMillis: number;
  owner: string;
  partitionKey: string;
  links: Map<string, DependencyLink>;
  loaded: boolean;
  dirty: boolean;
}

function traceDay(trace: TraceGroup, now: number): number {
  let ts = Infinity;
  for (const s of trace.spans) if (s.timestamp !== undefined && s.timestamp < ts) ts = s.timestamp;
  const millis = Number.isFinite(ts) ? Math.floor(ts / 1000) : now;
  return Math.floor(millis / DAY_MS) * DAY_MS;
}

function addTo(links: Map<string, DependencyLink>, link: DependencyLink): void {
  const key = `${link.parent}|${link.child}`;
  const total = links.get(key);
  if (total === undefined) links.set(key, { parent: link.parent, child: link.child, callCount: link.callCount, errorCount: link.errorCount });
  else {
    total.callCount += link.callCount;
    total.errorCount += link.errorCount;
  }
}

/** Running link totals per (day, owner), and the holds that wait for their next durable flush. */
export class DependencyTotals {
  private readonly buckets = new Map<string, Bucket>();
  private waiting = new Set<Receipt>();
  private readonly now: () => number;

  constructor(private readonly options: DependencyTotalsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** True while totals or holds wait for a flush. */
  get pending(): boolean {
    return this.waiting.size > 0 || [...this.buckets.values()].some((b) => b.dirty);
  }

  /** Adds the links of a closed trace; its receipts then wait for the flush that writes them. */
  add(trace: TraceGroup): void {
    const links = linkTrace(trace.spans);
    if (links.size === 0) return;
    const first = trace.receipts[0];
    const topic = first?.topic ?? '';
    const partition = first?.partition ?? 0;
    const owner = `${this.options.groupId}/${topic}/${partition}`;
    const dayMillis = traceDay(trace, this.now());
    const key = `${dayMillis}|${owner}`;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { dayMillis, owner, partitionKey: partitionKey(topic, partition), links: new Map(), loaded: false, dirty: false };
      this.buckets.set(key, bucket);
    }
    for (const l of links.values()) addTo(bucket.links, l);
    bucket.dirty = true;
    for (const r of trace.receipts) {
      if (this.waiting.has(r)) continue;
      r.retain();
      this.waiting.add(r);
    }
  }

  /** Forgets totals of partitions not in `keep` (keys `topic\0partition`); reloaded when owned again. */
  revoke(keep: ReadonlySet<string>): void {
    for (const [key, b] of this.buckets) if (!keep.has(b.partitionKey)) this.buckets.delete(key);
  }

  /** Writes the changed totals, then releases the holds that waited for them. */
  async flush(): Promise<void> {
    const { store, metrics } = this.options;
    const releasing = this.waiting;
    this.waiting = new Set();
    const dirty = [...this.buckets.values()].filter((b) => b.dirty);
    if (dirty.length > 0) {
      const started = performance.now();
      try {
        for (const b of dirty) {
          if (b.loaded) continue;
          for (const doc of await store.read(b.dayMillis, b.owner)) addTo(b.links, doc);
          b.loaded = true;
        }
        const docs: DependencyLinkDocument[] = [];
        for (const b of dirty) {
          b.dirty = false;
          for (const l of b.links.values()) docs.push({ dayMillis: b.dayMillis, owner: b.owner, ...l });
        }
        await store.write(docs);
        metrics.dependencyDocsWritten.inc(docs.length);
        metrics.dependencySeconds.observe({ result: 'ok' }, (performance.now() - started) / 1000);
      } catch (err) {
        metrics.dependencySeconds.observe({ result: 'error' }, (performance.now() - started) / 1000);
        for (const b of dirty) b.dirty = true;
        for (const r of releasing) {
          if (this.waiting.has(r))
            r.release(); // one hold per receipt is enough
          else this.waiting.add(r);
        }
        throw err;
      }
    }
    for (const r of releasing) r.release();
  }
}

export interface LinkDependenciesOptions {
  metrics: CollectorMetrics;
  log: Logger;
  /** How often changed totals are written; default 5000 ms. */
  flushMs?: number;
}

/** The dependencies stage over `totals`: adds each closed trace, flushes every `flushMs`. */
export function linkDependencies(totals: DependencyTotals, options: LinkDependenciesOptions): OperatorFunction<TraceBatch, TraceBatch> {
  const { metrics, log } = options;
  const flushMs = options.flushMs ?? 5000;
  const counts = metrics.stage('dependencies', 'span');
  return (source) =>
    new Observable<TraceBatch>((subscriber) => {
      let flushing: Promise<void> | undefined;
      let failures = 0;
      let completed = false;
      const runFlush = (): Promise<void> => {
        flushing ??= totals
          .flush()
          .then(() => {
            failures = 0;
            // An empty batch down the pipe lets the commit stage commit the offsets just released.
            if (!completed) subscriber.next({ traces: [], receipts: [] });
          })
          .catch((err: unknown) => {
            failures += 1;
            log.warn({ err, failures }, 'dependency-link flush failed; retrying with the next flush');
          })
          .finally(() => {
            flushing = undefined;
          });
        return flushing;
      };
      const timer = setInterval(() => void runFlush(), flushMs);
      timer.unref();
      const subscription = source.subscribe({
        next: (batch) => {
          for (const trace of batch.traces) {
            counts.in(trace.spans.length);
            totals.add(trace);
            counts.out(trace.spans.length);
          }
          subscriber.next(batch);
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          clearInterval(timer);
          // Flush what is left before completing, so drain commits these offsets too.
          const finish = async () => {
            await flushing;
            for (let attempt = 0; attempt < 3 && totals.pending; attempt++) await runFlush();
          };
          finish().then(
            () => {
              subscriber.next({ traces: [], receipts: [] });
              completed = true;
              subscriber.complete();
            },
            (err: unknown) => subscriber.error(err),
          );
        },
      });
      return () => {
        clearInterval(timer);
        subscription.unsubscribe();
      };
    });
}
