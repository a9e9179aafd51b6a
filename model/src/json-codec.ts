/**
 * Zipkin v2 JSON codec.
 *
 * Encoding writes keys in zipkin's V2SpanWriter order:
 *   span     = traceId, parentId?, id, kind?, name?, timestamp?, duration?, localEndpoint?,
 *              remoteEndpoint?, annotations?, tags?, debug? (only true), shared? (only true)
 *   endpoint = serviceName?, ipv4?, ipv6?, port?
 *   annotation = timestamp, value
 * Tags are written sorted by key (Java String order = UTF-16 code units).
 * One encoder serves every place a span is written, parameterised by how strings are quoted:
 * quoteJson (zipkin's JsonEscaper: the API, Kafka messages, span files) or storage's Jackson
 * quoting (the documents zipkin-server stores). The span must be normalised (checkSpan): ids,
 * kinds and addresses are then plain ASCII with nothing to escape and are copied unquoted.
 *
 * Decoding of a list message ("[span,...]", what the Kafka topic carries) is per span: a bad span
 * is rejected with its reason and the others are kept. Only a message that is not a JSON list
 * at all is undecodable as a whole; like zipkin, the first character must be "[".
 */
import { quoteJson } from './json-escape.js';
import { checkSpan } from './normalize.js';
import type { SpanRejection, SpanResult } from './reasons.js';
import type { Endpoint, Span } from './span.js';
import { traceIdOfLine } from './trace-id-of-line.js';

/** Writes a string as a quoted JSON string literal. */
export type QuoteString = (value: string) => string;

/** `,"key":...` for each field of a non-empty endpoint; '' for an empty one. */
function endpointFields(e: Endpoint, quote: QuoteString): string {
  let out = '';
  if (e.serviceName !== undefined) out += `,"serviceName":${quote(e.serviceName)}`;
  if (e.ipv4 !== undefined) out += `,"ipv4":"${e.ipv4}"`;
  if (e.ipv6 !== undefined) out += `,"ipv6":"${e.ipv6}"`;
  if (e.port !== undefined && e.port !== 0) out += `,"port":${e.port}`;
  return out;
}

const NO_KEYS: readonly string[] = [];

/** Tag keys in the order they are written (Java String order = UTF-16 code units). */
export function sortedTagKeys(tags: Readonly<Record<string, string>> | undefined): readonly string[] {
  if (tags === undefined) return NO_KEYS;
  const keys = Object.keys(tags);
  if (keys.length > 1) keys.sort();
  return keys;
}

/**
 * The span's fields in V2SpanWriter order, without the enclosing braces, so a stored document
 * can put its own fields first. `tagKeys` is sortedTagKeys(span.tags), for a caller that needs
 * them too. Built by appending to one string rather than joining arrays of parts: this runs once
 * per span on the collector's only thread, and intermediate arrays were a large share of its garbage.
 */
export function encodeSpanFields(span: Span, quote: QuoteString, tagKeys: readonly string[] = sortedTagKeys(span.tags)): string {
  let out = `"traceId":"${span.traceId}"`;
  if (span.parentId !== undefined) out += `,"parentId":"${span.parentId}"`;
  out += `,"id":"${span.id}"`;
  if (span.kind !== undefined) out += `,"kind":"${span.kind}"`;
  if (span.name !== undefined) out += `,"name":${quote(span.name)}`;
  if (span.timestamp) out += `,"timestamp":${span.timestamp}`;
  if (span.duration) out += `,"duration":${span.duration}`;
  const local = span.localEndpoint === undefined ? '' : endpointFields(span.localEndpoint, quote);
  if (local !== '') out += `,"localEndpoint":{${local.slice(1)}}`;
  const remote = span.remoteEndpoint === undefined ? '' : endpointFields(span.remoteEndpoint, quote);
  if (remote !== '') out += `,"remoteEndpoint":{${remote.slice(1)}}`;
  const annotations = span.annotations;
  if (annotations !== undefined && annotations.length > 0) {
    let items = '';
    for (let i = 0; i < annotations.length; i++) {
      const a = annotations[i]!;
      items += `,{"timestamp":${a.timestamp},"value":${quote(a.value)}}`;
    }
    out += `,"annotations":[${items.slice(1)}]`;
  }
  if (tagKeys.length > 0) {
    const tags = span.tags!;
    let items = '';
    for (const key of tagKeys) items += `,${quote(key)}:${quote(tags[key]!)}`;
    out += `,"tags":{${items.slice(1)}}`;
  }
  if (span.debug === true) out += ',"debug":true';
  if (span.shared === true) out += ',"shared":true';
  return out;
}

/** Encodes one span as a compact Zipkin v2 JSON object. Expects a normalised span. */
export function encodeSpan(span: Span): string {
  return `{${encodeSpanFields(span, quoteJson)}}`;
}

/** Encodes spans as a JSON list message ("[span,...]"). */
export function encodeSpanList(spans: readonly Span[]): string {
  return `[${spans.map(encodeSpan).join(',')}]`;
}

/** Decodes and normalises one span from JSON text. Never throws. */
export function decodeSpan(json: string): SpanResult {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    const result: SpanResult = {
      ok: false,
      reason: 'malformed_json',
      message: `Malformed reading Span from json: ${(err as Error).message}`,
    };
    const traceId = traceIdOfLine(json);
    if (traceId !== undefined) result.traceId = traceId;
    return result;
  }
  return checkSpan(value);
}

/** Result of decoding a list message. */
export type SpanListResult = { ok: true; spans: Span[]; rejected: SpanRejection[] } | { ok: false; reason: 'undecodable'; message: string };

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Splits the text of a JSON list into the raw text of its top-level elements without parsing
 * them, so one malformed element does not take its neighbours down. Returns undefined when the
 * list structure itself is broken (unbalanced brackets, unterminated string, trailing garbage).
 */
function splitList(text: string): string[] | undefined {
  const elements: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 1;
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped char
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) {
        if (c !== 0x5d) return undefined;
        const last = text.slice(start, i);
        if (elements.length > 0 || last.trim() !== '') elements.push(last);
        return text.slice(i + 1).trim() === '' ? elements : undefined;
      }
      depth--;
    } else if (c === 0x2c && depth === 0) {
      elements.push(text.slice(start, i));
      start = i + 1;
    }
  }
  return undefined;
}

/**
 * Decodes a list message: "[span,...]" as bytes or text. An empty message is an empty list.
 * Each span is normalised; bad spans are returned in `rejected` with their list index.
 */
export function decodeSpanList(message: string | Uint8Array): SpanListResult {
  if (message.length === 0) return { ok: true, spans: [], rejected: [] };
  const first = typeof message === 'string' ? message.charCodeAt(0) : message[0];
  if (first !== 0x5b) {
    return { ok: false, reason: 'undecodable', message: 'Expected json list encoding: first byte must be "["' };
  }
  const text = typeof message === 'string' ? message : utf8.decode(message);
  const spans: Span[] = [];
  const rejected: SpanRejection[] = [];
  const accept = (result: SpanResult, index: number): void => {
    if (result.ok) spans.push(result.span);
    else {
      const { ok: _ok, ...rejection } = result;
      rejected.push({ ...rejection, index });
    }
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const elements = splitList(text);
    if (elements === undefined) {
      return { ok: false, reason: 'undecodable', message: 'Malformed reading List<Span> from json' };
    }
    elements.forEach((element, index) => accept(decodeSpan(element), index));
    return { ok: true, spans, rejected };
  }
  if (!Array.isArray(parsed)) {
    return { ok: false, reason: 'undecodable', message: 'Malformed reading List<Span> from json' };
  }
  parsed.forEach((element, index) => accept(checkSpan(element), index));
  return { ok: true, spans, rejected };
}
