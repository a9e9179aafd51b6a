import { SpanKind, SpanStatusCode, type AttributeValue, type Attributes } from '@opentelemetry/api';
import { parseIp, type Annotation, type Endpoint, type Span as ZipkinSpan, type SpanKind as ZipkinKind } from '@pintrace/model';
import { toZipkinTraceId } from '../ids.js';
import type { FinishedSpan } from '../trace/finished-span.js';

/**
 * Converts a finished span to a Zipkin v2 span (the mapping Zipkin's own OTel exporters use):
 * - kind: SERVER/CLIENT/PRODUCER/CONSUMER map by name; INTERNAL has no kind (a local span);
 * - name and service names lower-case (zipkin2.Span does the same);
 * - trace id 16 chars when its high 64 bits are zero, else 32;
 * - attributes become string tags (numbers and booleans via String(), arrays comma-joined),
 *   except the network ones below, which become the remote endpoint;
 * - events become annotations: value = the event name, followed by its attributes as JSON when
 *   it has any;
 * - status ERROR sets the `error` tag to the status message (or "true" when it has none), unless
 *   an `error` attribute was set explicitly.
 *
 * Remote endpoint attributes (current and older OTel semantic conventions):
 *   peer.service                                     → serviceName
 *   network.peer.address / net.peer.ip / net.sock.peer.addr → ipv4 or ipv6 (IPv4-mapped IPv6 → ipv4)
 *   network.peer.port / net.peer.port / net.sock.peer.port  → port (0 omitted)
 */
export const KINDS: Record<number, ZipkinKind | undefined> = {
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

export const PEER_SERVICE = 'peer.service';
export const PEER_ADDRESS = ['network.peer.address', 'net.peer.ip', 'net.sock.peer.addr'];
export const PEER_PORT = ['network.peer.port', 'net.peer.port', 'net.sock.peer.port'];
export const REMOTE_KEYS = new Set([PEER_SERVICE, ...PEER_ADDRESS, ...PEER_PORT]);

export function toZipkinSpan(span: FinishedSpan): ZipkinSpan {
  const out: ZipkinSpan = { traceId: toZipkinTraceId(span.traceId), id: span.spanId };
  if (span.parentSpanId !== undefined) out.parentId = span.parentSpanId;
  const kind = KINDS[span.kind];
  if (kind) out.kind = kind;
  if (span.name) out.name = span.name.toLowerCase();
  out.timestamp = span.startMicros;
  out.duration = Math.max(1, span.durationMicros);
  out.localEndpoint = span.localEndpoint;
  const remote = remoteEndpoint(span.attributes);
  if (remote) out.remoteEndpoint = remote;
  if (span.events.length > 0) out.annotations = span.events.map(toAnnotation);
  const tags = toTags(span);
  if (tags) out.tags = tags;
  if (span.debug) out.debug = true;
  if (span.shared) out.shared = true;
  return out;
}

export function toAnnotation(event: FinishedSpan['events'][number]): Annotation {
  const attributes = event.attributes;
  const value = attributes && Object.keys(attributes).length > 0 ? `${event.name} ${JSON.stringify(attributes)}` : event.name;
  return { timestamp: event.timestampMicros, value };
}

export function tagValue(value: AttributeValue): string {
  if (Array.isArray(value)) return value.map((v) => (v === null || v === undefined ? '' : String(v))).join(',');
  // API 1.10 admits any value (maps, bytes) as an attribute; String() would give "[object Object]"
  if (typeof value === 'object' && value !== null) return objectTagValue(value);
  return String(value);
}

/** A map as JSON, bytes as base64 (the OTLP JSON form); a value JSON cannot hold as String() gives it. */
function objectTagValue(value: object): string {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  try {
    return JSON.stringify(value, (_key, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : typeof v === 'bigint' ? v.toString() : v,
    );
  } catch {
    return String(value);
  }
}

function toTags(span: FinishedSpan): Record<string, string> | undefined {
  let tags: Record<string, string> | undefined;
  for (const key in span.attributes) {
    const value = span.attributes[key];
    if (value === undefined || value === null || REMOTE_KEYS.has(key)) continue;
    tags ??= {};
    tags[key] = tagValue(value);
  }
  if (span.status.code === SpanStatusCode.ERROR && !(tags && 'error' in tags)) {
    tags ??= {};
    tags.error = span.status.message ? span.status.message : 'true';
  }
  return tags;
}

export function firstOf(attributes: Attributes, keys: readonly string[]): AttributeValue | undefined {
  for (const key of keys) {
    const value = attributes[key];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

export function remoteEndpoint(attributes: Attributes): Endpoint | undefined {
  let endpoint: Endpoint | undefined;
  const service = attributes[PEER_SERVICE];
  if (typeof service === 'string' && service.length > 0) endpoint = { serviceName: service.toLowerCase() };
  const address = firstOf(attributes, PEER_ADDRESS);
  if (typeof address === 'string') {
    const ip = parseIp(address);
    if (ip.ipv4 || ip.ipv6) endpoint = { ...endpoint, ...ip };
  }
  const port = Number(firstOf(attributes, PEER_PORT));
  if (Number.isInteger(port) && port > 0 && port <= 65535 && endpoint) endpoint.port = port;
  else if (Number.isInteger(port) && port > 0 && port <= 65535) endpoint = { port };
  return endpoint;
}
