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
  let out = '';
  if (e.serviceName !== undefined) out += `,"serviceName":${quoteJackson(e.serviceName)}`;
  // Normalised addresses and ids are digits, hex, "." and ":" only: nothing to escape.
  if (e.ipv4 !== undefined) out += `,"ipv4":"${e.ipv4}"`;
  if (e.ipv6 !== undefined) out += `,"ipv6":"${e.ipv6}"`;
  if (e.port !== undefined && e.port !== 0) out += `,"port":${e.port}`;
  return out === '' ? undefined : `{${out.slice(1)}}`;
}

function sortedTagKeys(tags: Record<string, string>): string[] {
  const keys = Object.keys(tags);
  if (keys.length > 1) keys.sort();
  return keys;
}

/**
 * The JSON text of a span document (before UTF-8 encoding). Built by appending to one string
 * rather than joining arrays of parts: this runs once per span on the collector's only thread,
 * and the intermediate arrays were a large share of its garbage.
 */
export function spanDocumentJson(span: Span, options: SpanDocumentOptions = {}): string {
  const searchEnabled = options.searchEnabled ?? true;
  const tags = span.tags;
  const tagKeys = tags === undefined ? NO_KEYS : sortedTagKeys(tags);
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
  // Normalised ids are lower-hex (checkSpan): nothing to escape, so no quoting scan per span.
  out += `"traceId":"${span.traceId}"`;
  if (span.parentId !== undefined) out += `,"parentId":"${span.parentId}"`;
  out += `,"id":"${span.id}"`;
  if (span.kind !== undefined) out += `,"kind":"${span.kind}"`;
  if (span.name !== undefined) out += `,"name":${quoteJackson(span.name)}`;
  if (span.timestamp) out += `,"timestamp":${span.timestamp}`;
  if (span.duration) out += `,"duration":${span.duration}`;
  const local = span.localEndpoint && endpointJson(span.localEndpoint);
  if (local !== undefined) out += `,"localEndpoint":${local}`;
  const remote = span.remoteEndpoint && endpointJson(span.remoteEndpoint);
  if (remote !== undefined) out += `,"remoteEndpoint":${remote}`;
  if (annotationCount > 0) {
    let items = '';
    for (let i = 0; i < annotationCount; i++) {
      const a = annotations![i]!;
      items += `,{"timestamp":${a.timestamp},"value":${quoteJackson(a.value)}}`;
    }
    out += `,"annotations":[${items.slice(1)}]`;
  }
  if (tagKeys.length > 0) {
    let items = '';
    for (const key of tagKeys) items += `,${quoteJackson(key)}:${quoteJackson(tags![key]!)}`;
    out += `,"tags":{${items.slice(1)}}`;
  }
  if (span.debug === true) out += ',"debug":true';
  if (span.shared === true) out += ',"shared":true';
  return `${out}}`;
}

const NO_KEYS: string[] = [];

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
const md5Hex: (text: string) => string = oneShotHash !== undefined
  ? (text) => oneShotHash('md5', text, 'hex')
  : (text) => crypto.createHash('md5').update(text, 'utf8').digest('hex');

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
