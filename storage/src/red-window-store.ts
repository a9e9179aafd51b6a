/**
 * RED windows in the store, beside Zipkin's indices: daily indices `<index><delim>red-<yyyy-MM-dd>`
 * (the day of the window's start) holding one document per (collector, window, flush, key):
 *
 *   {"timestamp_millis":W,"windowMs":10000,"collector":"c","flush":0,"serviceName":"..","spanName":"..",
 *    "kind":"SERVER","remoteServiceName":"..","calls":N,"errors":N,"durationSumUs":N,"buckets":[..]}
 *
 * Why sums over documents are exact: every span is aggregated by exactly one collector of the
 * group (the one that owns its Kafka partition) into exactly one flush of one window, and each
 * flush is written once under the `_id` `<collector>|<window>|<flush>|<key>`; a retried bulk
 * overwrites the same document. So any set of collectors adds up to the same totals, and
 * readers just add every matching document (calls, errors and the buckets, bucket by bucket).
 * Nothing is ever read-modify-written, so collectors need no coordination.
 *
 * Writes retry 429, 5xx and network failures with backoff until they succeed or `shutdown()`.
 */
import { createHash } from 'node:crypto';
import type { BulkItem } from './bulk-request.js';
import { DocumentWrites, type DocumentWriterOptions } from './document-writes.js';
import { IndexNameFormatter } from './index-names.js';
import { addCounts, RED_BUCKET_BOUNDS_US } from './red-histogram.js';
import { indexTypeDelimiter } from './version.js';

/** One collector's aggregate of one key in one flush of one window. */
export interface RedWindowDocument {
  /** Window start, epoch ms. */
  timestamp_millis: number;
  windowMs: number;
  /** Which collector process wrote it; part of the `_id`. */
  collector: string;
  /** 0 for the window's first flush; later flushes carry spans that arrived late. */
  flush: number;
  serviceName: string;
  spanName: string;
  /** Zipkin kind, or "" when the span has none. */
  kind: string;
  remoteServiceName: string;
  /** Scaled by the inverse of each span's sampling probability. */
  calls: number;
  errors: number;
  durationSumUs: number;
  /** Scaled counts per bucket of {@link RED_BUCKET_BOUNDS_US}, +Inf last. */
  buckets: number[];
}

/** Sums over windows, one per step. */
export interface RedStep {
  /** Step start, epoch ms. */
  timestamp: number;
  calls: number;
  errors: number;
  buckets: number[];
}

export interface RedWindowStoreOptions extends DocumentWriterOptions {
  index?: string;
  dateSeparator?: string;
}

/** What `query` and `queryBySpanName` read: a service's windows in a range, summed per step. */
export interface RedQuery {
  serviceName: string;
  endTs: number;
  lookback: number;
  stepMs: number;
}

/** The most window documents one query reads (per request; larger ranges page). */
const PAGE = 10_000;

const stepCountOf = (q: RedQuery): number => Math.max(1, Math.ceil(q.lookback / q.stepMs));

function emptySteps(q: RedQuery): RedStep[] {
  const stepCount = stepCountOf(q);
  const steps: RedStep[] = [];
  for (let i = 0; i < stepCount; i++) {
    steps.push({ timestamp: q.endTs - (stepCount - i) * q.stepMs, calls: 0, errors: 0, buckets: new Array<number>(RED_BUCKET_BOUNDS_US.length + 1).fill(0) });
  }
  return steps;
}

function addInto(step: RedStep, s: Record<string, unknown>): void {
  if (typeof s.calls === 'number') step.calls += s.calls;
  if (typeof s.errors === 'number') step.errors += s.errors;
  if (Array.isArray(s.buckets))
    addCounts(
      step.buckets,
      s.buckets.map((b) => (typeof b === 'number' ? b : 0)),
    );
}

export class ElasticsearchRedWindowStore {
  private readonly names: IndexNameFormatter;
  private readonly writes: DocumentWrites;

  constructor(options: RedWindowStoreOptions) {
    this.names = new IndexNameFormatter({
      ...(options.index !== undefined ? { index: options.index } : {}),
      ...(options.dateSeparator !== undefined ? { dateSeparator: options.dateSeparator } : {}),
    });
    this.writes = new DocumentWrites('RED window', options);
  }

  static documentId(
    d: Pick<RedWindowDocument, 'collector' | 'timestamp_millis' | 'flush' | 'serviceName' | 'spanName' | 'kind' | 'remoteServiceName'>,
  ): string {
    const id = `${d.collector}|${d.timestamp_millis}|${d.flush}|${d.serviceName}|${d.spanName}|${d.kind}|${d.remoteServiceName}`;
    // an _id is at most 512 bytes: a longer one keeps its start and ends in a digest of the whole
    if (Buffer.byteLength(id, 'utf8') <= 512) return id;
    return `${Buffer.from(id, 'utf8').subarray(0, 400).toString('utf8')}#${createHash('sha256').update(id).digest('hex')}`;
  }

  /** Writes the documents; resolves once every one is durable. */
  async write(docs: readonly RedWindowDocument[]): Promise<void> {
    if (docs.length === 0) return;
    const version = await this.writes.versionRetrying();
    const delimiter = indexTypeDelimiter(version);
    const items: BulkItem[] = docs.map((d) => ({
      index: this.names.formatTypeAndTimestampForInsert('red', delimiter, d.timestamp_millis),
      type: 'red',
      id: ElasticsearchRedWindowStore.documentId(d),
      body: JSON.stringify(d),
    }));
    await this.writes.bulk(version, items);
  }

  /**
   * Windows of `serviceName` (and `spanName`, else every span name) starting in
   * [endTs - lookback, endTs), summed per step of `stepMs` aligned to `endTs`: one entry per step,
   * oldest first, empty steps included.
   */
  async query(input: RedQuery & { spanName?: string }): Promise<RedStep[]> {
    const steps = emptySteps(input);
    await this.scan(input, input.spanName, (doc, i) => addInto(steps[i]!, doc));
    return steps;
  }

  /**
   * The same steps per span name of the service, from one read: what `query` answers for each
   * span name alone (the health page's rows and, summed, its charts).
   */
  async queryBySpanName(input: RedQuery): Promise<Map<string, RedStep[]>> {
    const out = new Map<string, RedStep[]>();
    await this.scan(input, undefined, (doc, i) => {
      const name = typeof doc.spanName === 'string' ? doc.spanName : '';
      let steps = out.get(name);
      if (steps === undefined) {
        steps = emptySteps(input);
        out.set(name, steps);
      }
      addInto(steps[i]!, doc);
    });
    return out;
  }

  /** Services with windows starting in [endTs - lookback, endTs), sorted (at most 10,000). */
  serviceNames(input: { endTs: number; lookback: number }): Promise<string[]> {
    return this.distinct('serviceName', [], input);
  }

  /** Span names of `serviceName` with windows starting in [endTs - lookback, endTs), sorted. */
  spanNames(input: { serviceName: string; endTs: number; lookback: number }): Promise<string[]> {
    return this.distinct('spanName', [{ term: { serviceName: input.serviceName } }], input);
  }

  private async distinct(field: string, filter: unknown[], input: { endTs: number; lookback: number }): Promise<string[]> {
    const begin = input.endTs - input.lookback;
    const body = {
      size: 0,
      query: { bool: { filter: [...filter, { range: { timestamp_millis: { gte: begin, lt: input.endTs, format: 'epoch_millis' } } }] } },
      aggs: { names: { terms: { field, size: PAGE, order: { _key: 'asc' } } } },
    };
    const answer = await this.writes.search(this.names.formatTypeAndRange('red', begin, input.endTs).join(','), body);
    const buckets = (answer as { aggregations?: { names?: { buckets?: Array<{ key?: unknown }> } } } | undefined)?.aggregations?.names?.buckets ?? [];
    return buckets.map((b) => b.key).filter((k): k is string => typeof k === 'string');
  }

  /** Calls `visit` with each matching document's source and the index of its step. */
  private async scan(input: RedQuery, spanName: string | undefined, visit: (doc: Record<string, unknown>, step: number) => void): Promise<void> {
    const { serviceName, endTs, lookback, stepMs } = input;
    const begin = endTs - lookback;
    const stepCount = stepCountOf(input);
    const filter: unknown[] = [{ term: { serviceName } }, { range: { timestamp_millis: { gte: begin, lt: endTs, format: 'epoch_millis' } } }];
    if (spanName !== undefined) filter.push({ term: { spanName } });
    const indices = this.names.formatTypeAndRange('red', begin, endTs).join(',');
    let searchAfter: unknown[] | undefined;
    for (;;) {
      const body: Record<string, unknown> = {
        size: PAGE,
        query: { bool: { filter } },
        // the fields of the _id, so pages never skip or repeat (ES 8 refuses to sort on _id)
        sort: [{ timestamp_millis: 'asc' }, { collector: 'asc' }, { flush: 'asc' }, { spanName: 'asc' }, { kind: 'asc' }, { remoteServiceName: 'asc' }],
        _source: ['timestamp_millis', 'spanName', 'calls', 'errors', 'buckets'],
      };
      if (searchAfter) body.search_after = searchAfter;
      const answer = await this.writes.search(indices, body);
      if (answer === undefined) break;
      const hits = (answer as { hits?: { hits?: Array<{ _source?: Record<string, unknown>; sort?: unknown[] }> } }).hits?.hits ?? [];
      for (const hit of hits) {
        const s = hit._source ?? {};
        const ts = s.timestamp_millis;
        if (typeof ts !== 'number') continue;
        const i = Math.floor((ts - (endTs - stepCount * stepMs)) / stepMs);
        if (i >= 0 && i < stepCount) visit(s, i);
      }
      if (hits.length < PAGE) break;
      searchAfter = hits[hits.length - 1]!.sort;
      if (!searchAfter) break;
    }
  }

  /** Stops retrying: writes in progress reject with WRITER_SHUT_DOWN. */
  shutdown(): void {
    this.writes.shutdown();
  }
}
