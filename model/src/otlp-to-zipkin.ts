/**
 * OTLP spans → Zipkin v2 spans, with the observable mapping of the OpenTelemetry Collector's Zipkin
 * translator (collector-contrib pkg/translator/zipkin/zipkinv2, FromTranslator, as serialised by
 * zipkin-go), so a span reads the same whether a Collector or our agent forwarded it:
 *
 * - localEndpoint.serviceName = resource `service.name`, else `faas.name`, `k8s.deployment.name`,
 *   `process.executable.name` (that key then in tag `zipkin.service_name_source`), else
 *   "OTLPResourceNoServiceName"; localEndpoint ip/port from `net.host.ip` / `net.host.port`.
 * - remoteEndpoint from `peer.service`, `net.peer.ip`, `net.peer.port` (absent when none is usable).
 *   The attributes used for an endpoint are removed from the tags.
 * - tags: resource attributes, then `otel.library.name` / `otel.library.version` of the scope (the
 *   translator keeps them across later scopes of the same resource that have none), then span
 *   attributes; non-string values as pdata's AsString (JSON for arrays and maps, base64 for bytes).
 * - kind: SERVER, CLIENT, PRODUCER, CONSUMER; INTERNAL has no kind and tag `span.kind=internal`.
 * - status: ERROR → tag `error=true`; otherwise any `error` attribute is removed. A status other than
 *   UNSET adds `otel.status_code` (STATUS_CODE_OK / STATUS_CODE_ERROR) and, if it has a message,
 *   `otel.status_description`.
 * - trace_state → tag `w3c.tracestate`; link i → tag `otlp.link.i` = "traceId|spanId|traceState|
 *   attributesJson|dropped".
 * - events → annotations: the name, or "name|attributesJson|dropped" when it has attributes or
 *   dropped some.
 * - ids kept at their width (128-bit trace ids stay 128-bit); timestamp = start rounded to µs,
 *   left out when start is 0; duration = end − start rounded to µs (a positive sub-µs duration is
 *   1), left out when end is 0.
 *
 * A span with an all-zero or missing trace or span id fails the whole request, as in the
 * translator; the result is normalised as Zipkin does afterwards (lower-case names).
 */
import { parseIp } from './ip.js';
import { normalizeSpan } from './normalize.js';
import type { OtlpAnyValue, OtlpKeyValue, OtlpSpan, OtlpTraces } from './otlp.js';
import type { Annotation, Endpoint, Span, SpanKind } from './span.js';

export type OtlpConversion = { ok: true; spans: Span[] } | { ok: false; reason: 'invalid_trace_id' | 'invalid_id' | 'invalid_span'; message: string };

export const NO_SERVICE_NAME = 'OTLPResourceNoServiceName';
const SERVICE_NAME_SOURCE = 'zipkin.service_name_source';
const FALLBACK_SERVICE_KEYS = ['faas.name', 'k8s.deployment.name', 'process.executable.name'];
export const KINDS: Record<number, SpanKind | undefined> = { 2: 'SERVER', 3: 'CLIENT', 4: 'PRODUCER', 5: 'CONSUMER' };
export const STATUS_NAMES: Record<number, string> = { 1: 'STATUS_CODE_OK', 2: 'STATUS_CODE_ERROR' };
export const ZERO_ID = /^0*$/;

/** Converts one export request; all spans or, on the first invalid id, none. */
export function otlpToZipkin(traces: OtlpTraces): OtlpConversion {
  const out: Span[] = [];
  for (const { serviceName, resourceTags, spans } of scopesOf(traces)) {
    for (const span of spans) {
      const converted = convertSpan(span, serviceName, resourceTags);
      if (!converted.ok) return converted;
      out.push(converted.span);
    }
  }
  return { ok: true, spans: out };
}

/** One scope's spans, their service and the tags every one of them gets (valid until the next scope). */
export interface OtlpScope {
  serviceName: string;
  resourceTags: Map<string, string>;
  spans: readonly OtlpSpan[];
}

/**
 * The scopes of a request as the translator walks them: the resource's attributes become tags
 * (less the one that names the service), and a scope's name and version are added to them; a
 * scope without a name or version keeps the previous scope's tag, as the translator does.
 */
export function* scopesOf(traces: OtlpTraces): Generator<OtlpScope> {
  for (const rs of traces.resourceSpans) {
    const resourceAttributes = rs.resource.attributes;
    if (resourceAttributes.length === 0 && rs.scopeSpans.length === 0) continue;
    const resourceTags = new Map<string, string>();
    for (const kv of resourceAttributes) resourceTags.set(kv.key, anyValueAsString(kv.value));
    const serviceName = takeServiceName(resourceTags, resourceAttributes.length === 0);
    for (const ss of rs.scopeSpans) {
      if (ss.scope.name !== '') resourceTags.set('otel.library.name', ss.scope.name);
      if (ss.scope.version !== '') resourceTags.set('otel.library.version', ss.scope.version);
      yield { serviceName, resourceTags, spans: ss.spans };
    }
  }
}

function takeServiceName(tags: Map<string, string>, noAttributes: boolean): string {
  if (noAttributes) return NO_SERVICE_NAME;
  const name = tags.get('service.name');
  if (name !== undefined) {
    tags.delete('service.name');
    return name;
  }
  for (const key of FALLBACK_SERVICE_KEYS) {
    const value = tags.get(key);
    if (value !== undefined) {
      tags.delete(key);
      tags.set(SERVICE_NAME_SOURCE, key);
      return value;
    }
  }
  return NO_SERVICE_NAME;
}

export function convertSpan(
  span: OtlpSpan,
  serviceName: string,
  resourceTags: ReadonlyMap<string, string>,
): { ok: true; span: Span } | { ok: false; reason: 'invalid_trace_id' | 'invalid_id' | 'invalid_span'; message: string } {
  if (ZERO_ID.test(span.traceId)) return { ok: false, reason: 'invalid_trace_id', message: 'TraceID is invalid' };
  if (ZERO_ID.test(span.spanId)) return { ok: false, reason: 'invalid_id', message: 'SpanID is invalid' };
  const tags = new Map(resourceTags);
  for (const kv of span.attributes) tags.set(kv.key, anyValueAsString(kv.value));
  if (span.traceState !== '') tags.set('w3c.tracestate', span.traceState);

  const zipkin: Span = { traceId: span.traceId, id: span.spanId, name: span.name };
  if (!ZERO_ID.test(span.parentSpanId)) zipkin.parentId = span.parentSpanId;
  const start = span.startTimeUnixNano;
  // Go's time.Unix() of the start: seconds, so a start below 1 s also leaves the timestamp out
  if (start / 1_000_000_000n !== 0n) zipkin.timestamp = Number(roundToMicros(start));
  if (span.endTimeUnixNano !== 0n) {
    const d = span.endTimeUnixNano - start;
    if (d < 0n) return { ok: false, reason: 'invalid_span', message: 'end time is before start time' };
    const micros = d === 0n ? 0n : d < 1000n ? 1n : (d + 500n) / 1000n;
    if (micros > 0n) zipkin.duration = Number(micros);
  }
  const kind = KINDS[span.kind];
  if (kind !== undefined) zipkin.kind = kind;
  if (span.kind === 1) tags.set('span.kind', 'internal');

  const used = new Set<string>();
  const get = (key: string) => tags.get(key);
  zipkin.localEndpoint = endpointFromTags(get, serviceName, false, used);
  const remote = endpointFromTags(get, '', true, used);
  if (remote !== undefined) zipkin.remoteEndpoint = remote;
  for (const key of used) tags.delete(key);

  if (span.status.code === 2) tags.set('error', 'true');
  else tags.delete('error');
  const statusName = STATUS_NAMES[span.status.code];
  if (statusName !== undefined) {
    tags.set('otel.status_code', statusName);
    if (span.status.message !== '') tags.set('otel.status_description', span.status.message);
  }

  if (span.events.length > 0) {
    zipkin.annotations = span.events.map(
      (e): Annotation => ({
        timestamp: Number(roundToMicros(e.timeUnixNano)),
        value: e.attributes.length === 0 && e.droppedAttributesCount === 0 ? e.name : `${e.name}|${attributesJson(e.attributes)}|${e.droppedAttributesCount}`,
      }),
    );
  }
  span.links.forEach((link, i) => {
    const traceId = ZERO_ID.test(link.traceId) ? '' : link.traceId;
    const spanId = ZERO_ID.test(link.spanId) ? '' : link.spanId;
    tags.set(`otlp.link.${i}`, `${traceId}|${spanId}|${link.traceState}|${attributesJson(link.attributes)}|${link.droppedAttributesCount}`);
  });
  if (tags.size > 0) zipkin.tags = Object.fromEntries(tags);

  const normalized = normalizeSpan(zipkin);
  if (!normalized.ok) return { ok: false, reason: 'invalid_span', message: normalized.message };
  return { ok: true, span: normalized.span };
}

/** An endpoint from the (merged) tags that `get` reads; the keys it used are added to `used`. */
export function endpointFromTags(get: (key: string) => string | undefined, localServiceName: string, remote: boolean, used: Set<string>): Endpoint | undefined {
  let serviceName = localServiceName;
  const peerService = get('peer.service');
  if (remote && peerService !== undefined) {
    serviceName = peerService;
    used.add('peer.service');
  }
  const ipKey = remote ? 'net.peer.ip' : 'net.host.ip';
  const portKey = remote ? 'net.peer.port' : 'net.host.port';
  let ip: { ipv4?: string; ipv6?: string } = {};
  const ipText = get(ipKey);
  if (ipText !== undefined) {
    ip = parseIp(ipText);
    used.add(ipKey);
  }
  let port = 0;
  const portText = get(portKey);
  if (portText !== undefined) {
    // Go's strconv.ParseUint(s, 10, 16): digits only, at most 65535, else 0
    port = /^[0-9]+$/.test(portText) && Number(portText) <= 65535 ? Number(portText) : 0;
    used.add(portKey);
  }
  const hasIp = ip.ipv4 !== undefined || ip.ipv6 !== undefined;
  if (serviceName === '' && !hasIp) return undefined;
  const endpoint: Endpoint = {};
  if (serviceName !== '') endpoint.serviceName = serviceName;
  if (ip.ipv4 !== undefined) endpoint.ipv4 = ip.ipv4;
  if (ip.ipv6 !== undefined) endpoint.ipv6 = ip.ipv6;
  if (port !== 0) endpoint.port = port;
  return endpoint;
}

/** time.Time.Round(time.Microsecond): half away from zero, for a non-negative time. */
export function roundToMicros(nanos: bigint): bigint {
  return (nanos + 500n) / 1000n;
}

/** pdata's Value.AsString. */
export function anyValueAsString(v: OtlpAnyValue): string {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue ? 'true' : 'false';
  if (v.intValue !== undefined) return v.intValue.toString();
  if (v.doubleValue !== undefined) return goFloat(v.doubleValue) ?? `json: unsupported value: ${goFloatG(v.doubleValue)}`;
  if (v.bytesValue !== undefined) return Buffer.from(v.bytesValue).toString('base64');
  if (v.arrayValue !== undefined || v.kvlistValue !== undefined) return goJson(v) ?? '';
  return '';
}

export function attributesJson(attributes: readonly OtlpKeyValue[]): string {
  return goJson({ kvlistValue: { values: [...attributes] } }) ?? '';
}

/** encoding/json.Marshal of pdata's AsRaw: map keys sorted, HTML-safe escaping; undefined for NaN/Inf. */
function goJson(v: OtlpAnyValue): string | undefined {
  if (v.stringValue !== undefined) return goQuote(v.stringValue);
  if (v.boolValue !== undefined) return v.boolValue ? 'true' : 'false';
  if (v.intValue !== undefined) return v.intValue.toString();
  if (v.doubleValue !== undefined) return goFloat(v.doubleValue);
  if (v.bytesValue !== undefined) return goQuote(Buffer.from(v.bytesValue).toString('base64'));
  if (v.arrayValue !== undefined) {
    const parts: string[] = [];
    for (const item of v.arrayValue.values) {
      const s = goJson(item);
      if (s === undefined) return undefined;
      parts.push(s);
    }
    return `[${parts.join(',')}]`;
  }
  if (v.kvlistValue !== undefined) {
    // a map: a repeated key keeps its last value, keys in byte order
    const byKey = new Map<string, OtlpAnyValue>();
    for (const kv of v.kvlistValue.values) byKey.set(kv.key, kv.value);
    const keys = [...byKey.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const parts: string[] = [];
    for (const key of keys) {
      const s = goJson(byKey.get(key)!);
      if (s === undefined) return undefined;
      parts.push(`${goQuote(key)}:${s}`);
    }
    return `{${parts.join(',')}}`;
  }
  return 'null';
}

/** A float as encoding/json writes it (ES6 number formatting), or undefined for NaN and ±Inf. */
function goFloat(f: number): string | undefined {
  if (!Number.isFinite(f)) return undefined;
  if (Object.is(f, -0)) return '-0';
  return String(f);
}

/** strconv.FormatFloat(f, 'g', -1, 64) for NaN and ±Inf. */
function goFloatG(f: number): string {
  return Number.isNaN(f) ? 'NaN' : f > 0 ? '+Inf' : '-Inf';
}

const GO_SHORT_ESCAPES: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x08: '\\b', 0x0c: '\\f' };

/** A string as encoding/json writes it: HTML characters and U+2028/2029 escaped, lone surrogates as U+FFFD. */
function goQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short = GO_SHORT_ESCAPES[c];
    if (short !== undefined) out += short;
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += s[i]! + s[i + 1]!;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd';
    else out += s[i]!;
  }
  return `${out}"`;
}
