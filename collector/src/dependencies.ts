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
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { DependencyLinkDocument } from '@pintrace/storage';
import type { Logger } from '@pintrace/runtime';
import { linkTrace } from './dependency-linker.js';
import type { CollectorMetrics } from './metrics.js';
import type { Receipt } from './receipt.js';
import type { TraceBatch, TraceGroup } from './types.js';

/** The part of storage's dependency writer the stage uses. */
export interface DependencyStore {
  write(docs: readonly DependencyLinkDocument[]): Promise<void>;
  read(dayMillis: number, owner?: string): Promise<DependencyLinkDocument[]>;
}

export interface DependenciesOptions {
  store: DependencyStore;
  metrics: CollectorMetrics;
  log: Logger;
  /** Consumer group, part of the owner of each document. */
  groupId: string;
  /** How often changed totals are written; default 5000 ms. */
  flushMs?: number;
  now?: () => number;
}

export interface DependencyStage {
  operator: OperatorFunction<TraceBatch, TraceBatch>;
  /** Forgets totals of partitions not in `keep` (keys `topic\0partition`); reloaded when owned again. */
  revoke(keep: ReadonlySet<string>): void;
}

const DAY_MS = 86_400_000;

interface Bucket {
  dayMillis: number;
  owner: string;
  partitionKey: string;
  links: Map<string, { parent: string; child: string; callCount: number; errorCount: number }>;
  loaded: boolean;
  dirty: boolean;
}

function traceDay(trace: TraceGroup, now: number): number {
  let ts = Infinity;
  for (const s of trace.spans) if (s.timestamp !== undefined && s.timestamp < ts) ts = s.timestamp;
  const millis = Number.isFinite(ts) ? Math.floor(ts / 1000) : now;
  return Math.floor(millis / DAY_MS) * DAY_MS;
}

export function dependencies(options: DependenciesOptions): DependencyStage {
  const { store, metrics, log, groupId } = options;
  const flushMs = options.flushMs ?? 5000;
  const now = options.now ?? Date.now;
  const counts = metrics.stage('dependencies', 'span');
  const buckets = new Map<string, Bucket>();
  let waiting = new Set<Receipt>();

  const add = (trace: TraceGroup) => {
    const links = linkTrace(trace.spans);
    if (links.size === 0) return false;
    const first = trace.receipts[0];
    const topic = first?.topic ?? '';
    const partition = first?.partition ?? 0;
    const owner = `${groupId}/${topic}/${partition}`;
    const dayMillis = traceDay(trace, now());
    const key = `${dayMillis}|${owner}`;
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      bucket = { dayMillis, owner, partitionKey: `${topic}\u0000${partition}`, links: new Map(), loaded: false, dirty: false };
      buckets.set(key, bucket);
    }
    for (const [k, l] of links) {
      const total = bucket.links.get(k);
      if (total === undefined) bucket.links.set(k, { ...l });
      else {
        total.callCount += l.callCount;
        total.errorCount += l.errorCount;
      }
    }
    bucket.dirty = true;
    return true;
  };

  /** Writes the changed totals, then releases the receipts that waited for them. */
  const flush = async (): Promise<void> => {
    const releasing = waiting;
    waiting = new Set();
    const dirty = [...buckets.values()].filter((b) => b.dirty);
    if (dirty.length > 0) {
      const started = performance.now();
      try {
        for (const b of dirty) {
          if (b.loaded) continue;
          for (const doc of await store.read(b.dayMillis, b.owner)) {
            const k = `${doc.parent}|${doc.child}`;
            const total = b.links.get(k);
            if (total === undefined) b.links.set(k, { parent: doc.parent, child: doc.child, callCount: doc.callCount, errorCount: doc.errorCount });
            else {
              total.callCount += doc.callCount;
              total.errorCount += doc.errorCount;
            }
          }
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
          if (waiting.has(r)) r.release(); // one hold per receipt is enough
          else waiting.add(r);
        }
        throw err;
      }
    }
    for (const r of releasing) r.release();
  };

  const stage: DependencyStage = {
    revoke(keep) {
      for (const [key, b] of buckets) if (!keep.has(b.partitionKey)) buckets.delete(key);
    },
    operator: (source) =>
      new Observable<TraceBatch>((subscriber) => {
        let flushing: Promise<void> | undefined;
        let failures = 0;
        let completed = false;
        const runFlush = (): Promise<void> => {
          flushing ??= flush()
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
              if (add(trace)) {
                for (const r of trace.receipts) {
                  if (waiting.has(r)) continue;
                  r.retain();
                  waiting.add(r);
                }
              }
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
              for (let attempt = 0; attempt < 3 && (waiting.size > 0 || [...buckets.values()].some((b) => b.dirty)); attempt++) await runFlush();
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
      }),
  };
  return stage;
}
