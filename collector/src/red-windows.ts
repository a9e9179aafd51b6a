/**
 * The state of the `red` stage: RED aggregates (rate, errors, duration) per tumbling window of
 * span time and per (service, span name, kind, remote service), each span weighted by the
 * inverse of the probability that admitted its trace (the `sampling.threshold` tag the tracer
 * writes, OTel's `th`); a span without it counts once. Like `TraceGroups`, a value the pipeline
 * owns and the operator (`aggregate-red.ts`) drives.
 *
 * Windows are keyed by span time (its timestamp), not by arrival, so collectors that see the same
 * spans in another order or split them between them put each span in the same window. A window
 * is closed once `graceMs` passed after both its end and its last span on the collector's clock
 * (at most six windows after its end), and handed out as documents, one per
 * key, tagged with this collector's id and the window's flush number: spans of a closed window
 * that arrive later open a new flush of it (flush 1, 2, ...), so nothing is ever rewritten and
 * sums over all documents are exact (storage/red-window-store.ts).
 *
 * Root spans (no parent) are also keyed by their sampling endpoint (model's samplingEndpointOf:
 * the endpoint the tracer's per-endpoint rate governs) and count `roots`, unscaled: stored traces,
 * which with the scaled `calls` of the same document is what the adaptive sampler steers by.
 *
 * Bounds: distinct services, span names, sampling endpoints and remote services per service are capped;
 * a label beyond its cap becomes `__overflow__` (counted per label), so keys per window are at
 * most their product. Open windows are capped; beyond it the oldest closes early.
 */
import { probabilityOfThreshold, SAMPLING_THRESHOLD_TAG, samplingEndpointOf, type Span } from '@pintrace/model';
import { bucketIndex, RED_BUCKET_BOUNDS_US, type RedWindowDocument } from '@pintrace/storage';

/** The label a value beyond its cardinality cap is counted under. */
export const OVERFLOW_LABEL = '__overflow__';

export type RedLabel = 'service' | 'span_name' | 'remote_service' | 'endpoint';

export interface RedWindowSettings {
  /** Tumbling window length; windows start at multiples of it since the epoch. */
  windowMs: number;
  /** A window closes this long after its end; default one window. */
  graceMs?: number;
  /** Who aggregates: part of every document id (unique per collector process). */
  collectorId: string;
  /** Default 500. */
  maxServices?: number;
  /** Per service; default 1000. */
  maxSpanNamesPerService?: number;
  /** Per service; default 200. */
  maxRemoteServicesPerService?: number;
  /** Sampling endpoints of root spans per service; default 1000. */
  maxEndpointsPerService?: number;
  /** Default 60. */
  maxOpenWindows?: number;
  /** Called for every span whose label was replaced by the overflow label. */
  onOverflow?: (label: RedLabel) => void;
}

/** A key's running sums in an open window: the document it becomes, less the window's fields. */
type Aggregate = Omit<RedWindowDocument, 'timestamp_millis' | 'windowMs' | 'collector' | 'flush'>;

interface OpenWindow {
  start: number;
  flush: number;
  /** When a span was last added (collector clock). */
  lastAdd: number;
  keys: Map<Series, Aggregate>;
}

/** One key's labels (after the caps), made once and reused by every window as its map key. */
interface Series {
  serviceName: string;
  spanName: string;
  kind: string;
  remoteServiceName: string;
  /** A root series: the sampling endpoint it counts roots of. */
  endpoint?: string;
  /** The root series under this one, by sampling endpoint. */
  roots?: Map<string, Series>;
}

/**
 * A service's labels as a tree, so a span finds its series by four map lookups on the strings it
 * carries, with no key string built per span (measured: the joined key and the label tuple were
 * most of the stage's time). Only labels under their caps are keys; an overflowed one is looked
 * up again each time, so the overflow is counted per span.
 */
interface ServiceLabels {
  service: string;
  /** Span name → kind → remote service label → series. */
  names: Map<string, Map<string, Map<string, Series>>>;
  acceptedNames: number;
  remotes: Set<string>;
  endpoints: Set<string>;
}

/** A window closes at the latest this many window lengths after its end. */
const LONGEST_OPEN_WINDOWS = 6;

/** Flush numbers of closed windows are remembered this long, so late spans get a new one. */
const REMEMBER_MS = 3_600_000;

export class RedWindows {
  readonly windowMs: number;
  private readonly graceMs: number;
  private readonly settings: RedWindowSettings;
  private readonly open = new Map<number, OpenWindow>();
  /** Next flush number of windows already closed once. */
  private readonly nextFlush = new Map<number, number>();
  private readonly services = new Map<string, ServiceLabels>();
  private readonly weights = new Map<string, number>();

  constructor(settings: RedWindowSettings) {
    if (!(Number.isInteger(settings.windowMs) && settings.windowMs > 0)) {
      throw new RangeError(`RED windows: windowMs must be a whole number > 0, got ${settings.windowMs}`);
    }
    this.settings = settings;
    this.windowMs = settings.windowMs;
    this.graceMs = settings.graceMs ?? settings.windowMs;
  }

  /** Windows holding aggregates now. */
  get openWindows(): number {
    return this.open.size;
  }

  /**
   * Adds spans (spans without a local service name are skipped and their count returned);
   * `now` places spans that have no timestamp. Returns the documents of windows closed early
   * because too many were open.
   */
  add(spans: readonly Span[], now: number): { skipped: number; closed: RedWindowDocument[] } {
    let skipped = 0;
    const closed: RedWindowDocument[] = [];
    // a batch's spans mostly share a window (and often a service): the last ones are kept at hand
    let window: OpenWindow | undefined;
    let labels: ServiceLabels | undefined;
    for (const span of spans) {
      const service = span.localEndpoint?.serviceName;
      if (!service) {
        skipped++;
        continue;
      }
      const millis = span.timestamp !== undefined ? Math.floor(span.timestamp / 1000) : now;
      const start = Math.floor(millis / this.windowMs) * this.windowMs;
      // (a window closed early below is never the one at hand: it is replaced by the new one)
      if (window === undefined || window.start !== start) {
        window = this.open.get(start);
        if (window === undefined) {
          if (this.open.size >= (this.settings.maxOpenWindows ?? 60)) closed.push(...this.closeOldest());
          window = { start, flush: this.nextFlush.get(start) ?? 0, lastAdd: now, keys: new Map() };
          this.open.set(start, window);
        }
        window.lastAdd = now;
      }
      if (labels === undefined || labels.service !== service) labels = this.serviceLabels(service);
      let series = this.series(labels, span.name ?? '', span.kind ?? '', span.remoteEndpoint?.serviceName ?? '');
      if (span.parentId === undefined) series = this.rootSeries(labels, series, samplingEndpointOf(span.name ?? '', span.tags?.['http.path']).toLowerCase());
      let agg = window.keys.get(series);
      if (agg === undefined) {
        agg = {
          serviceName: series.serviceName,
          spanName: series.spanName,
          kind: series.kind,
          remoteServiceName: series.remoteServiceName,
          calls: 0,
          errors: 0,
          durationSumUs: 0,
          buckets: new Array<number>(RED_BUCKET_BOUNDS_US.length + 1).fill(0),
        };
        if (series.endpoint !== undefined) {
          agg.endpoint = series.endpoint;
          agg.roots = 0;
        }
        window.keys.set(series, agg);
      }
      const weight = this.weightOf(span.tags?.[SAMPLING_THRESHOLD_TAG]);
      agg.calls += weight;
      if (span.tags !== undefined && span.tags.error !== undefined) agg.errors += weight;
      if (span.duration !== undefined) {
        agg.durationSumUs += weight * span.duration;
        agg.buckets[bucketIndex(span.duration)]! += weight;
      }
      if (agg.roots !== undefined) agg.roots += 1;
    }
    return { skipped, closed };
  }

  /**
   * Closes the windows that ended and then saw no span for `graceMs` (or ended `MAX_OPEN_WINDOWS`
   * windows ago, whatever still arrives); their documents. Waiting for quiet rather than for the
   * end alone keeps a backlog being read (old windows filling for a while) to one flush per
   * window instead of one per tick.
   */
  closeDue(now: number): RedWindowDocument[] {
    const out: RedWindowDocument[] = [];
    for (const window of [...this.open.values()]) {
      const end = window.start + this.windowMs;
      const quiet = Math.max(end, window.lastAdd) + this.graceMs <= now;
      if (quiet || end + LONGEST_OPEN_WINDOWS * this.windowMs <= now) out.push(...this.close(window));
    }
    for (const start of this.nextFlush.keys()) if (start < now - REMEMBER_MS) this.nextFlush.delete(start);
    return out;
  }

  /** Closes every open window (at shutdown). */
  closeAll(): RedWindowDocument[] {
    const out: RedWindowDocument[] = [];
    for (const window of [...this.open.values()]) out.push(...this.close(window));
    return out;
  }

  private closeOldest(): RedWindowDocument[] {
    let oldest: OpenWindow | undefined;
    for (const w of this.open.values()) if (oldest === undefined || w.start < oldest.start) oldest = w;
    return oldest ? this.close(oldest) : [];
  }

  private close(window: OpenWindow): RedWindowDocument[] {
    this.open.delete(window.start);
    this.nextFlush.set(window.start, window.flush + 1);
    const docs: RedWindowDocument[] = [];
    for (const agg of window.keys.values()) {
      docs.push({
        timestamp_millis: window.start,
        windowMs: this.windowMs,
        collector: this.settings.collectorId,
        flush: window.flush,
        ...agg,
      });
    }
    return docs;
  }

  /** 1/p of a `th` tag value; 1 when absent or malformed (the span counts once). */
  private weightOf(th: string | undefined): number {
    if (th === undefined) return 1;
    let weight = this.weights.get(th);
    if (weight === undefined) {
      const p = probabilityOfThreshold(th);
      weight = p === undefined ? 1 : 1 / p;
      if (this.weights.size < 1000) this.weights.set(th, weight);
    }
    return weight;
  }

  /** The service's labels; a service past the cap counts under the overflow service (each span). */
  private serviceLabels(service: string): ServiceLabels {
    let labels = this.services.get(service);
    if (labels === undefined) {
      if (this.services.size >= (this.settings.maxServices ?? 500)) {
        this.settings.onOverflow?.('service');
        service = OVERFLOW_LABEL;
        labels = this.services.get(service);
      }
      if (labels === undefined) {
        labels = { service, names: new Map(), acceptedNames: 0, remotes: new Set(), endpoints: new Set() };
        this.services.set(service, labels);
      }
    }
    return labels;
  }

  /** The root series of `series` for a sampling endpoint (capped per service). */
  private rootSeries(labels: ServiceLabels, series: Series, endpoint: string): Series {
    if (!labels.endpoints.has(endpoint)) {
      if (labels.endpoints.size < (this.settings.maxEndpointsPerService ?? 1000)) {
        labels.endpoints.add(endpoint);
      } else {
        this.settings.onOverflow?.('endpoint');
        endpoint = OVERFLOW_LABEL;
      }
    }
    series.roots ??= new Map();
    let root = series.roots.get(endpoint);
    if (root === undefined) {
      root = { serviceName: series.serviceName, spanName: series.spanName, kind: series.kind, remoteServiceName: series.remoteServiceName, endpoint };
      series.roots.set(endpoint, root);
    }
    return root;
  }

  private series(labels: ServiceLabels, name: string, kind: string, remote: string): Series {
    let kinds = labels.names.get(name);
    if (kinds === undefined) {
      if (labels.acceptedNames < (this.settings.maxSpanNamesPerService ?? 1000)) {
        labels.acceptedNames++;
      } else {
        this.settings.onOverflow?.('span_name');
        name = OVERFLOW_LABEL;
        kinds = labels.names.get(name);
      }
      if (kinds === undefined) {
        kinds = new Map();
        labels.names.set(name, kinds);
      }
    }
    let remotes = kinds.get(kind);
    if (remotes === undefined) {
      remotes = new Map();
      kinds.set(kind, remotes);
    }
    let series = remotes.get(remote);
    if (series === undefined) {
      // the remote cap is per service, whatever the span name
      if (!labels.remotes.has(remote)) {
        if (labels.remotes.size < (this.settings.maxRemoteServicesPerService ?? 200)) {
          labels.remotes.add(remote);
        } else {
          this.settings.onOverflow?.('remote_service');
          remote = OVERFLOW_LABEL;
          series = remotes.get(remote);
        }
      }
      if (series === undefined) {
        series = { serviceName: labels.service, spanName: name, kind, remoteServiceName: remote };
        remotes.set(remote, series);
      }
    }
    return series;
  }
}
