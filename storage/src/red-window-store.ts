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
 * Each document also carries its buckets as fields `h0` … `h18` (RED_BUCKET_FIELDS), and the
 * template maps calls, errors and those as doc values, so readers ask the store for the sums
 * (histogram of steps, terms of span names, `sum` of each field) and read a few KB whatever the
 * number of windows. Windows in indices made from an older template (sums only in _source) are
 * noticed by counting the documents that have the fields, and then read and added up here.
 *
 * Writes retry 429, 5xx and network failures with backoff until they succeed or `shutdown()`.
 */
import { createHash } from 'node:crypto';
import type { BulkItem } from './bulk-request.js';
import { DocumentWrites, type DocumentWriterOptions } from './document-writes.js';
import { IndexNameFormatter } from './index-names.js';
import { addCounts, RED_BUCKET_BOUNDS_US, RED_BUCKET_FIELDS } from './red-histogram.js';
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
  /**
   * Root spans only (no parent): the sampling endpoint (model's samplingEndpointOf) they are keyed
   * by as well, so the adaptive sampler sees what each per-endpoint rate governs.
   */
  endpoint?: string;
  /** Root spans only: how many were stored, unscaled (`calls` is the same roots scaled). */
  roots?: number;
}

/** One window's stored roots of one sampling endpoint, summed over collectors and flushes. */
export interface RootWindow {
  /** Window start, epoch ms. */
  timestamp: number;
  windowMs: number;
  serviceName: string;
  endpoint: string;
  /** Stored, unscaled. */
  roots: number;
  /** Scaled by the inverse sampling rate: the true count. */
  calls: number;
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

/** What `query` and `queryService` read: a service's windows in a range, summed per step. */
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
    this.names = new IndexNameFormatter(options);
    this.writes = new DocumentWrites('RED window', options);
  }

  static documentId(
    d: Pick<RedWindowDocument, 'collector' | 'timestamp_millis' | 'flush' | 'serviceName' | 'spanName' | 'kind' | 'remoteServiceName' | 'endpoint'>,
  ): string {
    const base = `${d.collector}|${d.timestamp_millis}|${d.flush}|${d.serviceName}|${d.spanName}|${d.kind}|${d.remoteServiceName}`;
    const id = d.endpoint === undefined ? base : `${base}|${d.endpoint}`;
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
      body: JSON.stringify({ ...d, ...Object.fromEntries(RED_BUCKET_FIELDS.map((f, i) => [f, d.buckets[i] ?? 0])) }),
    }));
    await this.writes.bulk(version, items);
  }

  /**
   * Windows of `serviceName` (and `spanName`, else every span name) starting in
   * [endTs - lookback, endTs), summed per step of `stepMs` aligned to `endTs`: one entry per step,
   * oldest first, empty steps included.
   */
  async query(input: RedQuery & { spanName?: string }): Promise<RedStep[]> {
    return (await this.read(input, input.spanName, false)).steps;
  }

  /**
   * From one search: the service's steps (every span name summed, as `query` without spanName)
   * and each span name's totals over the whole range (the health page's charts and rows).
   */
  async queryService(input: RedQuery): Promise<{ steps: RedStep[]; bySpanName: Map<string, RedStep> }> {
    const { steps, bySpanName } = await this.read(input, undefined, true);
    return { steps, bySpanName: bySpanName ?? new Map() };
  }

  private async read(input: RedQuery, spanName: string | undefined, bySpanName: boolean): Promise<{ steps: RedStep[]; bySpanName?: Map<string, RedStep> }> {
    const summed = await this.aggregate(input, spanName, bySpanName);
    if (summed !== undefined) return summed;
    // windows the store cannot sum (indices made before their template had the sums): add them up here
    const steps = emptySteps(input);
    const byName = new Map<string, RedStep>();
    await this.scan(input, spanName, (doc, i) => {
      addInto(steps[i]!, doc);
      if (!bySpanName) return;
      const name = typeof doc.spanName === 'string' ? doc.spanName : '';
      let total = byName.get(name);
      if (total === undefined) {
        total = { timestamp: input.endTs - input.lookback, calls: 0, errors: 0, buckets: new Array<number>(RED_BUCKET_BOUNDS_US.length + 1).fill(0) };
        byName.set(name, total);
      }
      addInto(total, doc);
    });
    return bySpanName ? { steps, bySpanName: byName } : { steps };
  }

  /**
   * The sums added up by the store: a histogram of steps over timestamp_millis (and a terms
   * aggregation over spanName) with a `sum` of calls, errors and each bucket field, from their doc
   * values; a few KB whatever the number of windows. Undefined when some matching document has no
   * such doc values (an index created from an older template, whose sums live only in _source).
   */
  private async aggregate(
    input: RedQuery,
    spanName: string | undefined,
    bySpanName: boolean,
  ): Promise<{ steps: RedStep[]; bySpanName?: Map<string, RedStep> } | undefined> {
    const { endTs, lookback, stepMs } = input;
    const begin = endTs - lookback;
    const origin = endTs - stepCountOf(input) * stepMs;
    const sums = Object.fromEntries(['calls', 'errors', ...RED_BUCKET_FIELDS].map((f) => [f, { sum: { field: f } }]));
    const aggs: Record<string, unknown> = {
      documents: { value_count: { field: 'timestamp_millis' } },
      withCalls: { value_count: { field: 'calls' } },
      withBuckets: { value_count: { field: RED_BUCKET_FIELDS[RED_BUCKET_FIELDS.length - 1] } },
      steps: { histogram: { field: 'timestamp_millis', interval: stepMs, offset: ((origin % stepMs) + stepMs) % stepMs, min_doc_count: 1 }, aggs: sums },
    };
    if (bySpanName) aggs.names = { terms: { field: 'spanName', size: PAGE }, aggs: sums };
    const answer = await this.writes.search(this.names.formatTypeAndRange('red', begin, endTs).join(','), {
      size: 0,
      query: { bool: { filter: this.filterOf(input, spanName) } },
      aggs,
    });
    const steps = emptySteps(input);
    if (answer === undefined) return bySpanName ? { steps, bySpanName: new Map() } : { steps };
    type Sums = Record<string, { value?: unknown } | unknown>;
    const a = (answer as { aggregations?: Record<string, unknown> }).aggregations ?? {};
    const count = (name: string) => Number((a[name] as { value?: unknown } | undefined)?.value ?? 0);
    if (count('withCalls') !== count('documents') || count('withBuckets') !== count('documents')) return undefined;
    const sumOf = (b: Sums, f: string) => {
      const v = (b[f] as { value?: unknown } | undefined)?.value;
      return typeof v === 'number' ? v : 0;
    };
    const fill = (into: RedStep, b: Sums) => {
      into.calls += sumOf(b, 'calls');
      into.errors += sumOf(b, 'errors');
      RED_BUCKET_FIELDS.forEach((f, j) => (into.buckets[j]! += sumOf(b, f)));
    };
    for (const b of (a.steps as { buckets?: Array<Sums & { key?: unknown }> } | undefined)?.buckets ?? []) {
      const i = Math.round((Number(b.key) - origin) / stepMs);
      if (steps[i] !== undefined) fill(steps[i]!, b);
    }
    if (!bySpanName) return { steps };
    const byName = new Map<string, RedStep>();
    for (const b of (a.names as { buckets?: Array<Sums & { key?: unknown }> } | undefined)?.buckets ?? []) {
      const total: RedStep = { timestamp: begin, calls: 0, errors: 0, buckets: new Array<number>(RED_BUCKET_BOUNDS_US.length + 1).fill(0) };
      fill(total, b);
      byName.set(String(b.key), total);
    }
    return { steps, bySpanName: byName };
  }

  private filterOf(input: RedQuery, spanName: string | undefined): unknown[] {
    const filter: unknown[] = [
      { term: { serviceName: input.serviceName } },
      { range: { timestamp_millis: { gte: input.endTs - input.lookback, lt: input.endTs, format: 'epoch_millis' } } },
    ];
    if (spanName !== undefined) filter.push({ term: { spanName } });
    return filter;
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
    const { endTs, lookback, stepMs } = input;
    const begin = endTs - lookback;
    const stepCount = stepCountOf(input);
    const filter = this.filterOf(input, spanName);
    const indices = this.names.formatTypeAndRange('red', begin, endTs).join(',');
    // the fields of the _id, so pages never skip or repeat (ES 8 refuses to sort on _id)
    const sort = [{ timestamp_millis: 'asc' }, { collector: 'asc' }, { flush: 'asc' }, { spanName: 'asc' }, { kind: 'asc' }, { remoteServiceName: 'asc' }];
    for await (const s of this.documents(indices, filter, sort, ['timestamp_millis', 'spanName', 'calls', 'errors', 'buckets'])) {
      const ts = s.timestamp_millis;
      if (typeof ts !== 'number') continue;
      const i = Math.floor((ts - (endTs - stepCount * stepMs)) / stepMs);
      if (i >= 0 && i < stepCount) visit(s, i);
    }
  }

  /**
   * Stored roots per window and sampling endpoint for windows starting in [begin, end), summed
   * over collectors and flushes (the adaptive sampler's input), ordered by window.
   */
  async rootWindows(input: { begin: number; end: number }): Promise<RootWindow[]> {
    const { begin, end } = input;
    const filter: unknown[] = [{ exists: { field: 'endpoint' } }, { range: { timestamp_millis: { gte: begin, lt: end, format: 'epoch_millis' } } }];
    const indices = this.names.formatTypeAndRange('red', begin, end).join(',');
    const sums = new Map<string, RootWindow>();
    const sort = [
      { timestamp_millis: 'asc' },
      { collector: 'asc' },
      { flush: 'asc' },
      { serviceName: 'asc' },
      { spanName: 'asc' },
      { kind: 'asc' },
      { remoteServiceName: 'asc' },
      // indices made by an older template lack the field: sorting on it must not fail there
      { endpoint: { order: 'asc', unmapped_type: 'keyword' } },
    ];
    for await (const s of this.documents(indices, filter, sort, ['timestamp_millis', 'windowMs', 'serviceName', 'endpoint', 'roots', 'calls'])) {
      if (typeof s.timestamp_millis !== 'number' || typeof s.serviceName !== 'string' || typeof s.endpoint !== 'string') continue;
      const key = `${s.timestamp_millis}\u0000${s.serviceName}\u0000${s.endpoint}`;
      let sum = sums.get(key);
      if (sum === undefined) {
        sum = {
          timestamp: s.timestamp_millis,
          windowMs: typeof s.windowMs === 'number' ? s.windowMs : 0,
          serviceName: s.serviceName,
          endpoint: s.endpoint,
          roots: 0,
          calls: 0,
        };
        sums.set(key, sum);
      }
      if (typeof s.roots === 'number') sum.roots += s.roots;
      if (typeof s.calls === 'number') sum.calls += s.calls;
    }
    return [...sums.values()].sort((a, b) => a.timestamp - b.timestamp);
  }

  /**
   * The `_source` of every document matching `filter`, page by page with `search_after`; `sort`
   * must hold the fields of the `_id`, so that pages never skip or repeat a document.
   */
  private async *documents(indices: string, filter: unknown[], sort: unknown[], source: string[]): AsyncGenerator<Record<string, unknown>> {
    let searchAfter: unknown[] | undefined;
    for (;;) {
      const body: Record<string, unknown> = { size: PAGE, query: { bool: { filter } }, sort, _source: source };
      if (searchAfter) body.search_after = searchAfter;
      const answer = await this.writes.search(indices, body);
      if (answer === undefined) return;
      const hits = (answer as { hits?: { hits?: Array<{ _source?: Record<string, unknown>; sort?: unknown[] }> } }).hits?.hits ?? [];
      for (const hit of hits) yield hit._source ?? {};
      if (hits.length < PAGE) return;
      searchAfter = hits[hits.length - 1]!.sort;
      if (!searchAfter) return;
    }
  }

  /** Stops retrying: writes in progress reject with WRITER_SHUT_DOWN. */
  shutdown(): void {
    this.writes.shutdown();
  }
}
