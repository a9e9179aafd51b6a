import { SpanStatusCode } from '@opentelemetry/api';
import { quoteJson, type Endpoint } from '@pintrace/model';
import { toZipkinTraceId } from '../ids.js';
import type { FinishedSpan } from '../trace/finished-span.js';
import { KINDS, REMOTE_KEYS, remoteEndpoint, tagValue, toAnnotation } from './to-zipkin.js';

/**
 * Encodes a finished span straight to one Zipkin v2 JSON line, byte for byte what
 * `encodeSpanLine(toZipkinSpan(span))` gives (same mapping, same key order, tags sorted), without
 * building the intermediate Zipkin object. This is the span logger's hot path:
 * - ids are our own validated lower-hex, written without escaping;
 * - the local endpoint is the same object for every span of a provider: encoded once, cached;
 * - strings that need no escaping (the usual case) are quoted by a scan instead of
 *   JSON.stringify; anything else goes through the model's quoteJson.
 */
const endpointJson = new WeakMap<Endpoint, string>();

/** Span names and tag keys repeat: their encoded fragments are cached (bounded). */
const MAX_CACHED = 2048;
const nameFragments = new Map<string, string>();
const keyFragments = new Map<string, string>();

function nameFragment(name: string): string {
  let fragment = nameFragments.get(name);
  if (fragment === undefined) {
    fragment = `,"name":${quote(name.toLowerCase())}`;
    if (nameFragments.size >= MAX_CACHED) nameFragments.clear();
    nameFragments.set(name, fragment);
  }
  return fragment;
}

function keyFragment(key: string): string {
  let fragment = keyFragments.get(key);
  if (fragment === undefined) {
    fragment = `${quote(key)}:`;
    if (keyFragments.size >= MAX_CACHED) keyFragments.clear();
    keyFragments.set(key, fragment);
  }
  return fragment;
}

export function encodeSpanJsonLine(span: FinishedSpan): string {
  let out = `{"traceId":"${toZipkinTraceId(span.traceId)}"`;
  if (span.parentSpanId !== undefined) out += `,"parentId":"${span.parentSpanId}"`;
  out += `,"id":"${span.spanId}"`;
  const kind = KINDS[span.kind];
  if (kind) out += `,"kind":"${kind}"`;
  if (span.name) out += nameFragment(span.name);
  if (span.startMicros) out += `,"timestamp":${span.startMicros}`;
  out += `,"duration":${Math.max(1, span.durationMicros)}`;
  const local = span.localEndpoint;
  if (local) {
    let json = endpointJson.get(local);
    if (json === undefined) {
      json = encodeEndpoint(local);
      endpointJson.set(local, json);
    }
    if (json !== '') out += `,"localEndpoint":${json}`;
  }
  const attributes = span.attributes;
  let keys: string[] | undefined;
  let hasRemote = false;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    if (REMOTE_KEYS.has(key)) hasRemote = true;
    else (keys ??= []).push(key);
  }
  if (hasRemote) {
    const remote = remoteEndpoint(attributes);
    if (remote) {
      const json = encodeEndpoint(remote);
      if (json !== '') out += `,"remoteEndpoint":${json}`;
    }
  }
  if (span.events.length > 0) {
    out += ',"annotations":[';
    for (let i = 0; i < span.events.length; i++) {
      const a = toAnnotation(span.events[i]);
      out += `${i === 0 ? '' : ','}{"timestamp":${a.timestamp},"value":${quote(a.value)}}`;
    }
    out += ']';
  }
  const error = span.status.code === SpanStatusCode.ERROR && !(keys && keys.includes('error'));
  if (keys || error) {
    if (error) (keys ??= []).push('error');
    if (keys!.length > 1) keys!.sort();
    out += ',"tags":{';
    for (let i = 0; i < keys!.length; i++) {
      const key = keys![i];
      const value = key === 'error' && error ? span.status.message || 'true' : tagValue(attributes[key]!);
      out += `${i === 0 ? '' : ','}${keyFragment(key)}${quote(value)}`;
    }
    out += '}';
  }
  if (span.debug) out += ',"debug":true';
  if (span.shared) out += ',"shared":true';
  return `${out}}\n`;
}

/** JSON string: a scan for the common no-escape case, else the model's exact escaping. */
function quote(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff) || c === 0x2028 || c === 0x2029) return quoteJson(value);
  }
  return `"${value}"`;
}

function encodeEndpoint(e: Endpoint): string {
  let out = '';
  if (e.serviceName !== undefined) out += `,"serviceName":${quote(e.serviceName)}`;
  if (e.ipv4 !== undefined) out += `,"ipv4":${quote(e.ipv4)}`;
  if (e.ipv6 !== undefined) out += `,"ipv6":${quote(e.ipv6)}`;
  if (e.port !== undefined && e.port !== 0) out += `,"port":${e.port}`;
  return out === '' ? '' : `{${out.slice(1)}}`;
}
