/**
 * The span document zipkin-server writes into `zipkin-span-*` (BulkIndexWriter), byte for byte:
 *
 *   doc = "{" [ "timestamp_millis":N "," ] [ "_q":[..] "," ] span-fields "}"
 *   - timestamp_millis = floor(timestamp / 1000), only when search is enabled and it is non-zero;
 *   - _q (search enabled, span has tags or annotations): each annotation value of at most 256
 *     UTF-16 units, then for each tag in key order with key.length + value.length + 1 <= 256:
 *     key, then "key=value";
 *   - span fields in V2 order: traceId, parentId?, id, kind?, name?, timestamp?, duration?,
 *     localEndpoint?, remoteEndpoint?, annotations?, tags?, debug? (true), shared? (true).
 * Strings are quoted as Jackson does (see jackson-json.ts). The document id is
 * traceId + "-" + md5hex(document bytes), so retries of the same span are idempotent.
 * The span must already be normalised (@pintrace/model checkSpan).
 */
import { createHash } from 'node:crypto';
import type { Endpoint, Span } from '@pintrace/model';
import { quoteJackson } from './jackson-json.js';

/** Longest annotation value or "key=value" pair that goes into _q (zipkin SHORT_STRING_LENGTH). */
export const SHORT_STRING_LENGTH = 256;

/** An encoded span document and its deterministic _id. */
export interface SpanDocument {
  /** `traceId-md5hex(body)`. */
  id: string;
  /** The exact document bytes (UTF-8 JSON). */
  body: Buffer;
}

export interface SpanDocumentOptions {
  /** Write timestamp_millis and _q (zipkin's SEARCH_ENABLED). Default true. */
  searchEnabled?: boolean;
}

function endpointJson(e: Endpoint): string | undefined {
  const parts: string[] = [];
  if (e.serviceName !== undefined) parts.push(`"serviceName":${quoteJackson(e.serviceName)}`);
  if (e.ipv4 !== undefined) parts.push(`"ipv4":${quoteJackson(e.ipv4)}`);
  if (e.ipv6 !== undefined) parts.push(`"ipv6":${quoteJackson(e.ipv6)}`);
  if (e.port !== undefined && e.port !== 0) parts.push(`"port":${e.port}`);
  return parts.length === 0 ? undefined : `{${parts.join(',')}}`;
}

function sortedTagKeys(span: Span): string[] {
  if (span.tags === undefined) return [];
  const keys = Object.keys(span.tags);
  keys.sort();
  return keys;
}

/** The JSON text of a span document (before UTF-8 encoding). */
export function spanDocumentJson(span: Span, options: SpanDocumentOptions = {}): string {
  const searchEnabled = options.searchEnabled ?? true;
  const tagKeys = sortedTagKeys(span);
  const annotations = span.annotations ?? [];
  const fields: string[] = [];
  if (searchEnabled) {
    const millis = Math.trunc((span.timestamp ?? 0) / 1000);
    if (millis !== 0) fields.push(`"timestamp_millis":${millis}`);
    if (tagKeys.length > 0 || annotations.length > 0) {
      const q: string[] = [];
      for (const a of annotations) {
        if (a.value.length <= SHORT_STRING_LENGTH) q.push(quoteJackson(a.value));
      }
      for (const key of tagKeys) {
        const value = span.tags![key]!;
        if (key.length + value.length + 1 > SHORT_STRING_LENGTH) continue;
        q.push(quoteJackson(key), quoteJackson(`${key}=${value}`));
      }
      fields.push(`"_q":[${q.join(',')}]`);
    }
  }
  fields.push(`"traceId":${quoteJackson(span.traceId)}`);
  if (span.parentId !== undefined) fields.push(`"parentId":${quoteJackson(span.parentId)}`);
  fields.push(`"id":${quoteJackson(span.id)}`);
  if (span.kind !== undefined) fields.push(`"kind":"${span.kind}"`);
  if (span.name !== undefined) fields.push(`"name":${quoteJackson(span.name)}`);
  if (span.timestamp) fields.push(`"timestamp":${span.timestamp}`);
  if (span.duration) fields.push(`"duration":${span.duration}`);
  const local = span.localEndpoint && endpointJson(span.localEndpoint);
  if (local !== undefined) fields.push(`"localEndpoint":${local}`);
  const remote = span.remoteEndpoint && endpointJson(span.remoteEndpoint);
  if (remote !== undefined) fields.push(`"remoteEndpoint":${remote}`);
  if (annotations.length > 0) {
    const items = annotations.map((a) => `{"timestamp":${a.timestamp},"value":${quoteJackson(a.value)}}`);
    fields.push(`"annotations":[${items.join(',')}]`);
  }
  if (tagKeys.length > 0) {
    const items = tagKeys.map((k) => `${quoteJackson(k)}:${quoteJackson(span.tags![k]!)}`);
    fields.push(`"tags":{${items.join(',')}}`);
  }
  if (span.debug === true) fields.push('"debug":true');
  if (span.shared === true) fields.push('"shared":true');
  return `{${fields.join(',')}}`;
}

/** Encodes a span document and computes its `_id`. */
export function encodeSpanDocument(span: Span, options: SpanDocumentOptions = {}): SpanDocument {
  const body = Buffer.from(spanDocumentJson(span, options), 'utf8');
  const md5 = createHash('md5').update(body).digest('hex');
  return { id: `${span.traceId}-${md5}`, body };
}

/**
 * The epoch millisecond that decides a span's day index: timestamp, else the first annotation's
 * timestamp, else `now` (ElasticsearchSpanConsumer.indexSpans).
 */
export function spanIndexTimestamp(span: Span, now: number = Date.now()): number {
  if (span.timestamp) return Math.trunc(span.timestamp / 1000);
  const first = span.annotations?.[0];
  if (first !== undefined) return Math.trunc(first.timestamp / 1000);
  return now;
}
