/**
 * Checks and normalises one span given as a parsed JSON value (or an object a tracer built),
 * with the leniency of zipkin-server's V2SpanReader and the normalisation of zipkin2's
 * Span/Endpoint builders:
 *
 * - unknown fields are skipped; null optional fields are ignored;
 * - traceId and id are required and must not be null;
 * - string fields accept a JSON string or number (Gson's nextString does), nothing else;
 * - timestamp/duration accept an integer or an integer string; negative or 0 means absent;
 * - kind must be exactly CLIENT, SERVER, PRODUCER or CONSUMER;
 * - name and serviceName are lower-cased, empty means absent;
 * - an endpoint with nothing usable is dropped; invalid IPs are dropped; port > 65535 rejects the
 *   span, port <= 0 means absent;
 * - an annotation missing timestamp or value rejects the span; annotations are sorted by
 *   (timestamp, value) and de-duplicated;
 * - a null or non-string tag value rejects the span; tags are sorted by key;
 * - debug/shared must be booleans; false means absent; shared is removed on CLIENT spans;
 * - parentId equal to id is removed.
 * Nothing here throws for bad data: the result says what was wrong.
 */
import { normalizeParentId, normalizeSpanId, normalizeTraceId } from './ids.js';
import { parseIp } from './ip.js';
import { echo } from './reasons.js';
import type { RejectReason, SpanResult } from './reasons.js';
import type { Annotation, Endpoint, Span, SpanKind } from './span.js';

/**
 * Largest magnitude a Java long can hold (2^63 - 1); beyond it zipkin fails to read the number.
 * Written as the double it has always been: the literal 2^63 - 1 rounds to 2^63 in a JS number.
 */
const LONG_LIMIT = 2 ** 63;

class Reject {
  constructor(
    readonly reason: RejectReason,
    readonly message: string,
  ) {}
}

/** Gson-style token name of a JSON value, for "Expected a string but was BOOLEAN". */
function tokenOf(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value === 'number') return 'NUMBER';
  if (typeof value === 'string') return 'STRING';
  if (Array.isArray(value)) return 'BEGIN_ARRAY';
  return 'BEGIN_OBJECT';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a value as zipkin reads a string field: a string, or a number's text. */
function readString(value: unknown, path: string, reason: RejectReason): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new Reject(reason, `Expected a string but was ${tokenOf(value)} at ${path}`);
}

/** Reads a value as zipkin reads a long: an integer number or an integer string. */
function readLong(value: unknown, path: string, reason: RejectReason): number {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) n = Number(value);
  if (n === undefined || !Number.isInteger(n) || Math.abs(n) > LONG_LIMIT) {
    const shown = typeof value === 'string' ? `"${echo(value)}"` : tokenOf(value);
    throw new Reject(reason, `Expected a long but was ${shown} at ${path}`);
  }
  return n;
}

function readBoolean(value: unknown, path: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new Reject('invalid_flag', `Expected a boolean but was ${tokenOf(value)} at ${path}`);
}

const KINDS: ReadonlySet<string> = new Set(['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER']);

function readEndpoint(value: unknown, path: string): Endpoint | undefined {
  if (!isObject(value)) {
    throw new Reject('invalid_endpoint', `Expected BEGIN_OBJECT but was ${tokenOf(value)} at ${path}`);
  }
  let serviceName: string | undefined;
  let ipv4: string | undefined;
  let ipv6: string | undefined;
  let port = 0;
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === null || v === undefined) continue;
    if (key === 'serviceName') {
      const s = readString(v, `${path}.serviceName`, 'invalid_endpoint');
      serviceName = s === '' ? undefined : s.toLowerCase();
    } else if (key === 'ipv4' || key === 'ipv6') {
      const parsed = parseIp(readString(v, `${path}.${key}`, 'invalid_endpoint'));
      if (parsed.ipv4 !== undefined) ipv4 = parsed.ipv4;
      if (parsed.ipv6 !== undefined) ipv6 = parsed.ipv6;
    } else if (key === 'port') {
      const p = readLong(v, `${path}.port`, 'invalid_port');
      if (p > 0xffff) throw new Reject('invalid_port', `invalid port ${p}`);
      port = p < 0 ? 0 : p;
    }
  }
  if (serviceName === undefined && ipv4 === undefined && ipv6 === undefined && port === 0) {
    return undefined;
  }
  const endpoint: Endpoint = {};
  if (serviceName !== undefined) endpoint.serviceName = serviceName;
  if (ipv4 !== undefined) endpoint.ipv4 = ipv4;
  if (ipv6 !== undefined) endpoint.ipv6 = ipv6;
  if (port !== 0) endpoint.port = port;
  return endpoint;
}

function compareAnnotations(a: Annotation, b: Annotation): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

function readAnnotations(value: unknown): Annotation[] | undefined {
  if (!Array.isArray(value)) {
    throw new Reject('bad_annotation', `Expected BEGIN_ARRAY but was ${tokenOf(value)} at $.annotations`);
  }
  const out: Annotation[] = [];
  for (let i = 0; i < value.length; i++) {
    const path = `$.annotations[${i}]`;
    const a = value[i];
    if (!isObject(a)) {
      throw new Reject('bad_annotation', `Expected BEGIN_OBJECT but was ${tokenOf(a)} at ${path}`);
    }
    const ts = a.timestamp;
    const v = a.value;
    if (ts === undefined || v === undefined) {
      const missing = ts === undefined ? 'timestamp' : 'value';
      throw new Reject('bad_annotation', `Incomplete annotation at ${path}.${missing}`);
    }
    out.push({
      timestamp: readLong(ts, `${path}.timestamp`, 'bad_annotation'),
      value: readString(v, `${path}.value`, 'bad_annotation'),
    });
  }
  if (out.length === 0) return undefined;
  out.sort(compareAnnotations);
  let j = 0;
  for (let i = 1; i < out.length; i++) {
    if (compareAnnotations(out[i]!, out[j]!) !== 0) out[++j] = out[i]!;
  }
  out.length = j + 1;
  return out;
}

function readTags(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) {
    throw new Reject('invalid_tags', `Expected BEGIN_OBJECT but was ${tokenOf(value)} at $.tags`);
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return undefined;
  if (keys.length > 1) keys.sort();
  // Plain assignment (with the error path built only on failure): this runs for every tag of
  // every span the collector reads, where entries arrays and Object.fromEntries showed up.
  const out: Record<string, string> = {};
  for (const key of keys) {
    const v = value[key];
    let s: string;
    if (typeof v === 'string') s = v;
    else if (v === null || v === undefined) throw new Reject('non_string_tag', `No value at $.tags.${echo(key)}`);
    else s = readString(v, `$.tags.${echo(key)}`, 'non_string_tag');
    // A "__proto__" tag key must stay a plain own key, not set the prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: s, enumerable: true, writable: true, configurable: true });
    else out[key] = s;
  }
  return out;
}

function readSpan(input: unknown): Span {
  if (!isObject(input)) {
    throw new Reject('not_an_object', `Expected BEGIN_OBJECT but was ${tokenOf(input)} at $`);
  }
  const rawTraceId = input.traceId;
  if (rawTraceId === undefined) throw new Reject('missing_trace_id', 'Missing : traceId');
  const traceIdReason = rawTraceId === null ? 'missing_trace_id' : 'invalid_trace_id';
  const traceId = normalizeTraceId(readString(rawTraceId, '$.traceId', traceIdReason));
  if (!traceId.ok) throw new Reject('invalid_trace_id', traceId.message);
  const rawId = input.id;
  if (rawId === undefined) throw new Reject('missing_id', 'Missing : id');
  const id = normalizeSpanId(readString(rawId, '$.id', rawId === null ? 'missing_id' : 'invalid_id'));
  if (!id.ok) throw new Reject('invalid_id', id.message);

  const span: Span = { traceId: traceId.id, id: id.id };
  const v = (key: string): unknown => {
    const value = input[key];
    return value === null ? undefined : value;
  };
  const rawParent = v('parentId');
  if (rawParent !== undefined) {
    const parent = normalizeParentId(readString(rawParent, '$.parentId', 'invalid_parent_id'));
    if (!parent.ok) throw new Reject('invalid_parent_id', parent.message);
    if (parent.id !== undefined && parent.id !== id.id) span.parentId = parent.id;
  }
  const rawKind = v('kind');
  if (rawKind !== undefined) {
    const kind = readString(rawKind, '$.kind', 'invalid_kind');
    if (!KINDS.has(kind)) throw new Reject('invalid_kind', `No enum constant Span.Kind.${echo(kind)}`);
    span.kind = kind as SpanKind;
  }
  const rawName = v('name');
  if (rawName !== undefined) {
    const name = readString(rawName, '$.name', 'invalid_name');
    if (name !== '') span.name = name.toLowerCase();
  }
  const rawTimestamp = v('timestamp');
  if (rawTimestamp !== undefined) {
    const ts = readLong(rawTimestamp, '$.timestamp', 'invalid_timestamp');
    if (ts > 0) span.timestamp = ts;
  }
  const rawDuration = v('duration');
  if (rawDuration !== undefined) {
    const d = readLong(rawDuration, '$.duration', 'invalid_duration');
    if (d > 0) span.duration = d;
  }
  const rawLocal = v('localEndpoint');
  if (rawLocal !== undefined) {
    const e = readEndpoint(rawLocal, '$.localEndpoint');
    if (e !== undefined) span.localEndpoint = e;
  }
  const rawRemote = v('remoteEndpoint');
  if (rawRemote !== undefined) {
    const e = readEndpoint(rawRemote, '$.remoteEndpoint');
    if (e !== undefined) span.remoteEndpoint = e;
  }
  const rawAnnotations = v('annotations');
  if (rawAnnotations !== undefined) {
    const a = readAnnotations(rawAnnotations);
    if (a !== undefined) span.annotations = a;
  }
  const rawTags = v('tags');
  if (rawTags !== undefined) {
    const t = readTags(rawTags);
    if (t !== undefined) span.tags = t;
  }
  const rawDebug = v('debug');
  if (rawDebug !== undefined && readBoolean(rawDebug, '$.debug')) span.debug = true;
  const rawShared = v('shared');
  if (rawShared !== undefined && readBoolean(rawShared, '$.shared') && span.kind !== 'CLIENT') {
    span.shared = true;
  }
  return span;
}

/**
 * Validates and normalises one span. Never throws: a bad span comes back with a reason code and
 * a zipkin-style message. The returned span is a new object; the input is not modified.
 */
export function checkSpan(input: unknown): SpanResult {
  try {
    return { ok: true, span: readSpan(input) };
  } catch (err) {
    if (err instanceof Reject) {
      const result: SpanResult = { ok: false, reason: err.reason, message: err.message };
      if (isObject(input) && typeof input.traceId === 'string') result.traceId = echo(input.traceId);
      return result;
    }
    // Only reachable on a bug; still never escape to the caller.
    return { ok: false, reason: 'not_an_object', message: `unexpected: ${String(err)}` };
  }
}

/** Normalises an already well-typed span; same rules as {@link checkSpan}. */
export function normalizeSpan(span: Span): SpanResult {
  return checkSpan(span);
}
