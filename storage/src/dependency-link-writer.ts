/**
 * Dependency-link documents in the shape zipkin-server reads (`ElasticsearchSpanStore
 * .getDependencies`): daily indices `<index><delim>dependency-<yyyy-MM-dd>` holding
 *
 *   {"id":"<parent>|<child>","parent":"..","child":"..","callCount":N,"errorCount":N,"owner":".."}
 *
 * zipkin-server reads only parent, child, callCount and errorCount (`{"size":10000}`, no query)
 * and sums them per (parent, child) across every document of the days it reads. A streaming
 * writer therefore keeps one document per (day, parent, child, owner) holding the owner's
 * cumulative counts for the day: rewriting it is idempotent, and owners (one per Kafka partition,
 * say) never overwrite each other. The `_id` is `<parent>|<child>|<owner>`; the template maps the
 * type with `enabled: false`, so `owner` is found again by reading the day's documents.
 *
 * Writes retry 429, 5xx and network failures with backoff until they succeed or `shutdown()`.
 */
import type { BulkItem } from './bulk-request.js';
import { DocumentWrites, type DocumentWriterOptions } from './document-writes.js';
import { IndexNameFormatter } from './index-names.js';
import { quoteJackson } from './jackson-json.js';
import { indexTypeDelimiter } from './version.js';

/** One owner's cumulative counts of a link on one UTC day. */
export interface DependencyLinkDocument {
  /** Any instant of the UTC day the counts belong to, epoch ms. */
  dayMillis: number;
  parent: string;
  child: string;
  callCount: number;
  errorCount: number;
  /** Who keeps these counts (e.g. "group/topic/partition"); part of the `_id`. */
  owner: string;
}

export interface DependencyLinkWriterOptions extends DocumentWriterOptions {
  /** Index prefix (ES_INDEX). Default "zipkin". */
  index?: string;
  dateSeparator?: string;
}

/** The most documents zipkin-server reads per dependency query; stay well below it. */
export const DEPENDENCY_READ_LIMIT = 10_000;

export class ElasticsearchDependencyLinkWriter {
  private readonly names: IndexNameFormatter;
  private readonly writes: DocumentWrites;

  constructor(options: DependencyLinkWriterOptions) {
    this.names = new IndexNameFormatter(options);
    this.writes = new DocumentWrites('dependency', options);
  }

  /** `_id` of a document. */
  static documentId(parent: string, child: string, owner: string): string {
    return `${parent}|${child}|${owner}`;
  }

  /** Index a document of `dayMillis` is written to (after the version is known). */
  async indexFor(dayMillis: number): Promise<string> {
    const version = await this.writes.clusterVersion();
    return this.names.formatTypeAndTimestampForInsert('dependency', indexTypeDelimiter(version), dayMillis);
  }

  /** Writes (overwrites) the documents; resolves once every one is durable. */
  async write(docs: readonly DependencyLinkDocument[]): Promise<void> {
    if (docs.length === 0) return;
    const version = await this.writes.versionRetrying();
    const delimiter = indexTypeDelimiter(version);
    const items: BulkItem[] = docs.map((d) => ({
      index: this.names.formatTypeAndTimestampForInsert('dependency', delimiter, d.dayMillis),
      type: 'dependency',
      id: ElasticsearchDependencyLinkWriter.documentId(d.parent, d.child, d.owner),
      body: Buffer.from(
        `{"id":${quoteJackson(`${d.parent}|${d.child}`)},"parent":${quoteJackson(d.parent)},"child":${quoteJackson(d.child)},` +
          `"callCount":${d.callCount},"errorCount":${d.errorCount},"owner":${quoteJackson(d.owner)}}`,
        'utf8',
      ),
    }));
    await this.writes.bulk(version, items);
  }

  /** Documents of one day (all owners, or only `owner`); empty when the index does not exist. */
  async read(dayMillis: number, owner?: string): Promise<DependencyLinkDocument[]> {
    const version = await this.writes.clusterVersion();
    const index = this.names.formatTypeAndTimestampForInsert('dependency', indexTypeDelimiter(version), dayMillis);
    const body = await this.writes.search(index, { size: DEPENDENCY_READ_LIMIT });
    if (body === undefined) return [];
    const hits = (body as { hits?: { hits?: Array<{ _source?: Record<string, unknown> }> } }).hits?.hits ?? [];
    const out: DependencyLinkDocument[] = [];
    for (const hit of hits) {
      const s = hit._source ?? {};
      if (typeof s.parent !== 'string' || typeof s.child !== 'string' || typeof s.owner !== 'string') continue;
      if (owner !== undefined && s.owner !== owner) continue;
      out.push({
        dayMillis,
        parent: s.parent,
        child: s.child,
        owner: s.owner,
        callCount: typeof s.callCount === 'number' ? s.callCount : 0,
        errorCount: typeof s.errorCount === 'number' ? s.errorCount : 0,
      });
    }
    return out;
  }

  /** Stops retrying: writes in progress reject with WRITER_SHUT_DOWN. */
  shutdown(): void {
    this.writes.shutdown();
  }
}
