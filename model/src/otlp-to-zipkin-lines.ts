/**
 * OTLP spans → Zipkin v2 span lines in one pass: byte for byte the lines that
 * `encodeSpan` writes for the spans `otlpToZipkin` returns (a test holds the two paths to that), for
 * the agent's intake, where this runs for every span a host sends.
 *
 * What the one pass saves: the translator copies every resource attribute into every span's tags
 * (a typical SDK resource has a dozen), so the two-step path built a tags map, an object from it,
 * a normalised copy of that object, sorted its keys twice and quoted every key and value, per
 * span. Here the resource's (and scope's) tags are sorted and quoted once per scope, and each span
 * quotes and sorts only its own attributes and merges the two sorted lists as it writes. Nothing
 * is validated twice: the ids, times and endpoints the mapping makes are already what Zipkin's
 * normalisation would keep, apart from the lower-casing of names and the order of annotations,
 * which are done here. An id the normalisation would change or refuse takes the two-step path.
 */
import { normalizeParentId, normalizeSpanId, normalizeTraceId } from './ids.js';
import { quoteJson } from './json-escape.js';
import type { OtlpSpan, OtlpTraces } from './otlp.js';
import {
  anyValueAsString,
  attributesJson,
  convertSpan,
  endpointFromTags,
  KINDS,
  roundToMicros,
  scopesOf,
  STATUS_NAMES,
  ZERO_ID,
  type OtlpConversion,
} from './otlp-to-zipkin.js';
import { encodeSpan } from './json-codec.js';
import type { Endpoint } from './span.js';

export type OtlpLinesConversion = { ok: true; lines: string[] } | Extract<OtlpConversion, { ok: false }>;

/** The tags every span of one scope starts from: sorted keys, each with its `"key":"value"` text. */
interface ScopeTags {
  map: ReadonlyMap<string, string>;
  keys: string[];
  fragments: string[];
}

function scopeTags(map: ReadonlyMap<string, string>): ScopeTags {
  const keys = [...map.keys()];
  if (keys.length > 1) keys.sort();
  return { map, keys, fragments: keys.map((k) => `${quoteJson(k)}:${quoteJson(map.get(k)!)}`) };
}

/** Converts one export request to span lines; all of them or, on the first invalid span, none. */
export function otlpToZipkinLines(traces: OtlpTraces): OtlpLinesConversion {
  const lines: string[] = [];
  for (const { serviceName, resourceTags, spans } of scopesOf(traces)) {
    if (spans.length === 0) continue;
    const base = scopeTags(resourceTags);
    for (const span of spans) {
      const line = spanLine(span, serviceName, base);
      if (typeof line !== 'string') return line;
      lines.push(line);
    }
  }
  return { ok: true, lines };
}

/** Zipkin's normalisation of an endpoint as encodeSpanFields writes it: `,"key":value` fields, '' when empty. */
function endpointFields(e: Endpoint | undefined): string {
  if (e === undefined) return '';
  let out = '';
  if (e.serviceName !== undefined && e.serviceName !== '') out += `,"serviceName":${quoteJson(e.serviceName.toLowerCase())}`;
  if (e.ipv4 !== undefined) out += `,"ipv4":"${e.ipv4}"`;
  if (e.ipv6 !== undefined) out += `,"ipv6":"${e.ipv6}"`;
  if (e.port !== undefined && e.port !== 0) out += `,"port":${e.port}`;
  return out;
}

/** The two-step path for one span, for what the one pass does not handle itself. */
function twoStep(span: OtlpSpan, serviceName: string, base: ScopeTags): string | Extract<OtlpConversion, { ok: false }> {
  const converted = convertSpan(span, serviceName, base.map);
  return converted.ok ? encodeSpan(converted.span) : converted;
}

function spanLine(span: OtlpSpan, serviceName: string, base: ScopeTags): string | Extract<OtlpConversion, { ok: false }> {
  if (ZERO_ID.test(span.traceId)) return { ok: false, reason: 'invalid_trace_id', message: 'TraceID is invalid' };
  if (ZERO_ID.test(span.spanId)) return { ok: false, reason: 'invalid_id', message: 'SpanID is invalid' };
  const traceId = normalizeTraceId(span.traceId);
  const id = normalizeSpanId(span.spanId);
  if (!traceId.ok || !id.ok || traceId.id !== span.traceId) return twoStep(span, serviceName, base);
  let parentId: string | undefined;
  if (!ZERO_ID.test(span.parentSpanId)) {
    const parent = normalizeParentId(span.parentSpanId);
    if (!parent.ok) return twoStep(span, serviceName, base);
    if (parent.id !== id.id) parentId = parent.id;
  }

  // The span's own tags, over the scope's; `removed` are scope tags the mapping takes out.
  const own = new Map<string, string>();
  for (const kv of span.attributes) own.set(kv.key, anyValueAsString(kv.value));
  if (span.traceState !== '') own.set('w3c.tracestate', span.traceState);
  if (span.kind === 1) own.set('span.kind', 'internal');

  let timestamp = 0;
  const start = span.startTimeUnixNano;
  if (start / 1_000_000_000n !== 0n) timestamp = Number(roundToMicros(start));
  let duration = 0;
  if (span.endTimeUnixNano !== 0n) {
    const d = span.endTimeUnixNano - start;
    if (d < 0n) return { ok: false, reason: 'invalid_span', message: 'end time is before start time' };
    duration = Number(d === 0n ? 0n : d < 1000n ? 1n : (d + 500n) / 1000n);
  }

  const used = new Set<string>();
  const get = (key: string) => own.get(key) ?? base.map.get(key);
  const local = endpointFields(endpointFromTags(get, serviceName, false, used));
  const remote = endpointFields(endpointFromTags(get, '', true, used));
  const removed = used;
  for (const key of used) own.delete(key);
  if (span.status.code === 2) own.set('error', 'true');
  else {
    own.delete('error');
    removed.add('error');
  }
  const statusName = STATUS_NAMES[span.status.code];
  if (statusName !== undefined) {
    own.set('otel.status_code', statusName);
    if (span.status.message !== '') own.set('otel.status_description', span.status.message);
  }
  for (let i = 0; i < span.links.length; i++) {
    const link = span.links[i]!;
    const linkTrace = ZERO_ID.test(link.traceId) ? '' : link.traceId;
    const linkSpan = ZERO_ID.test(link.spanId) ? '' : link.spanId;
    own.set(`otlp.link.${i}`, `${linkTrace}|${linkSpan}|${link.traceState}|${attributesJson(link.attributes)}|${link.droppedAttributesCount}`);
  }

  let out = `{"traceId":"${traceId.id}"`;
  if (parentId !== undefined) out += `,"parentId":"${parentId}"`;
  out += `,"id":"${id.id}"`;
  const kind = KINDS[span.kind];
  if (kind !== undefined) out += `,"kind":"${kind}"`;
  if (span.name !== '') out += `,"name":${quoteJson(span.name.toLowerCase())}`;
  if (timestamp > 0) out += `,"timestamp":${timestamp}`;
  if (duration > 0) out += `,"duration":${duration}`;
  if (local !== '') out += `,"localEndpoint":{${local.slice(1)}}`;
  if (remote !== '') out += `,"remoteEndpoint":{${remote.slice(1)}}`;
  if (span.events.length > 0) out += `,"annotations":[${annotations(span)}]`;

  // Both tag lists are sorted by UTF-16 code units (Array#sort, as sortedTagKeys): merge them.
  const ownKeys = [...own.keys()];
  if (ownKeys.length > 1) ownKeys.sort();
  const baseKeys = base.keys;
  let tags = '';
  let i = 0;
  let j = 0;
  while (i < baseKeys.length || j < ownKeys.length) {
    if (j === ownKeys.length || (i < baseKeys.length && baseKeys[i]! < ownKeys[j]!)) {
      if (removed.size === 0 || !removed.has(baseKeys[i]!)) tags += `,${base.fragments[i]!}`;
      i++;
    } else {
      if (i < baseKeys.length && baseKeys[i] === ownKeys[j]) i++;
      const key = ownKeys[j++]!;
      tags += `,${quoteJson(key)}:${quoteJson(own.get(key)!)}`;
    }
  }
  if (tags !== '') out += `,"tags":{${tags.slice(1)}}`;
  return `${out}}`;
}

/** Events as Zipkin annotations, sorted by time then value with duplicates dropped (Zipkin's normalisation). */
function annotations(span: OtlpSpan): string {
  const list = span.events.map((e) => ({
    timestamp: Number(roundToMicros(e.timeUnixNano)),
    value: e.attributes.length === 0 && e.droppedAttributesCount === 0 ? e.name : `${e.name}|${attributesJson(e.attributes)}|${e.droppedAttributesCount}`,
  }));
  list.sort((a, b) => (a.timestamp !== b.timestamp ? (a.timestamp < b.timestamp ? -1 : 1) : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  let out = '';
  for (let k = 0; k < list.length; k++) {
    const a = list[k]!;
    if (k > 0 && a.timestamp === list[k - 1]!.timestamp && a.value === list[k - 1]!.value) continue;
    out += `,{"timestamp":${a.timestamp},"value":${quoteJson(a.value)}}`;
  }
  return out.slice(1);
}
