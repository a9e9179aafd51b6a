/**
 * Autocomplete documents (zipkin's addAutocompleteValues / BulkIndexWriter.AUTOCOMPLETE):
 * for each tag whose key is configured and with key.length + value.length + 1 <= 256, the doc
 * {"tagKey":k,"tagValue":v} with _id "k=v" goes to <index><delim>autocomplete-<day of span>.
 * Repeats are suppressed in memory for a TTL (DelayLimiter), bounded by a cardinality; a failed
 * write invalidates the suppression so the next span retries it.
 */
import type { Span } from '@pintrace/model';
import { quoteJackson } from './jackson-json.js';
import { SHORT_STRING_LENGTH } from './span-document.js';

export interface AutocompleteDocument {
  /** "key=value" */
  id: string;
  body: Buffer;
  /** Suppression key: day + id. */
  limiterKey: string;
}

export interface AutocompleteOptions {
  /** Tag keys to collect values for (AUTOCOMPLETE_KEYS). Default none. */
  keys?: readonly string[];
  /** How long a written value is not written again (AUTOCOMPLETE_TTL). Default 3600000 ms. */
  ttlMs?: number;
  /** Most remembered values (autocomplete-cardinality). Default 20000. */
  cardinality?: number;
  now?: () => number;
}

export class AutocompleteIndexer {
  private readonly keys: ReadonlySet<string>;
  private readonly ttlMs: number;
  private readonly cardinality: number;
  private readonly now: () => number;
  /** limiterKey -> expiry; Map order is insertion order, so the first entry is the oldest. */
  private readonly seen = new Map<string, number>();

  constructor(options: AutocompleteOptions = {}) {
    this.keys = new Set(options.keys ?? []);
    this.ttlMs = options.ttlMs ?? 3_600_000;
    this.cardinality = options.cardinality ?? 20_000;
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.keys.size > 0;
  }

  /** Documents to write for a span indexed on `day` (the formatted date), after suppression. */
  documentsFor(span: Span, day: string): AutocompleteDocument[] {
    if (this.keys.size === 0 || span.tags === undefined) return [];
    const out: AutocompleteDocument[] = [];
    const now = this.now();
    for (const key of Object.keys(span.tags).sort()) {
      if (!this.keys.has(key)) continue;
      const value = span.tags[key]!;
      if (key.length + value.length + 1 > SHORT_STRING_LENGTH) continue;
      const id = `${key}=${value}`;
      const limiterKey = `${day}|${id}`;
      const expiry = this.seen.get(limiterKey);
      if (expiry !== undefined && expiry > now) continue;
      this.remember(limiterKey, now + this.ttlMs);
      const body = Buffer.from(`{"tagKey":${quoteJackson(key)},"tagValue":${quoteJackson(value)}}`, 'utf8');
      out.push({ id, body, limiterKey });
    }
    return out;
  }

  /** Forget a value whose write failed, so it is written again next time. */
  invalidate(limiterKey: string): void {
    this.seen.delete(limiterKey);
  }

  private remember(limiterKey: string, expiry: number): void {
    this.seen.delete(limiterKey);
    while (this.seen.size >= this.cardinality) {
      const oldest = this.seen.keys().next();
      if (oldest.done) break;
      this.seen.delete(oldest.value);
    }
    this.seen.set(limiterKey, expiry);
  }
}
