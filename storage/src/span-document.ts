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
import crypto from 'node:crypto';
import { encodeSpanFields, sortedTagKeys, type Span } from '@pintrace/model';
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

/**
 * The JSON text of a span document (before UTF-8 encoding): the search fields, then the span's
 * fields as model's one span encoder writes them, with Jackson's quoting.
 */
export function spanDocumentJson(span: Span, options: SpanDocumentOptions = {}): string {
  const searchEnabled = options.searchEnabled ?? true;
  const tags = span.tags;
  const tagKeys = sortedTagKeys(tags);
  const annotations = span.annotations;
  const annotationCount = annotations === undefined ? 0 : annotations.length;
  let out = '{';
  if (searchEnabled) {
    const millis = Math.trunc((span.timestamp ?? 0) / 1000);
    if (millis !== 0) out += `"timestamp_millis":${millis},`;
    if (tagKeys.length > 0 || annotationCount > 0) {
      let q = '';
      for (let i = 0; i < annotationCount; i++) {
        const value = annotations![i]!.value;
        if (value.length <= SHORT_STRING_LENGTH) q += `,${quoteJackson(value)}`;
      }
      for (const key of tagKeys) {
        const value = tags![key]!;
        if (key.length + value.length + 1 > SHORT_STRING_LENGTH) continue;
        q += `,${quoteJackson(key)},${quoteJackson(`${key}=${value}`)}`;
      }
      out += `"_q":[${q.slice(1)}],`;
    }
  }
  return `${out}${encodeSpanFields(span, quoteJackson, tagKeys)}}`;
}

/** A span document as JSON text, with its `_id`. */
export interface SpanDocumentText {
  /** `traceId-md5hex(UTF-8 of json)`. */
  id: string;
  json: string;
}

/**
 * One-shot `crypto.hash` (Node >= 20.12) skips the Hash object createHash builds per call, a
 * fixed cost that showed next to the document encoding itself at one call per span.
 */
const oneShotHash = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
const md5Hex: (text: string) => string =
  oneShotHash !== undefined ? (text) => oneShotHash('md5', text, 'hex') : (text) => crypto.createHash('md5').update(text, 'utf8').digest('hex');

/** The document text and `_id`, without encoding it to bytes (the bulk body does that once). */
export function spanDocument(span: Span, options: SpanDocumentOptions = {}): SpanDocumentText {
  const json = spanDocumentJson(span, options);
  return { id: `${span.traceId}-${md5Hex(json)}`, json };
}

/** Encodes a span document and computes its `_id`. */
export function encodeSpanDocument(span: Span, options: SpanDocumentOptions = {}): SpanDocument {
  const { id, json } = spanDocument(span, options);
  return { id, body: Buffer.from(json, 'utf8') };
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
