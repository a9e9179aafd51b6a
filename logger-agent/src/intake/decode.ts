/**
 * Request bodies → OTLP traces or Zipkin spans, with a stable reason for each way a body can be
 * unusable (the reason labels pintrace_agent_intake_rejected_total and is sent back to the client).
 *
 * OTLP/JSON follows the OTLP specification's JSON mapping: lowerCamelCase field names, trace and
 * span ids as hex (case-insensitive), 64-bit integers as decimal strings or numbers, enums as
 * numbers (names are accepted too), bytes as base64; unknown fields are ignored.
 */
import type { OtlpAnyValue, OtlpKeyValue, OtlpSpan, OtlpTraces, Span } from '@pintrace/model';
import { ExportTraceServiceRequest, ZipkinListOfSpans } from './protos.js';

export type IntakeRejectReason =
  | 'content_type'
  | 'bad_encoding'
  | 'body_too_large'
  | 'empty_body'
  | 'truncated_protobuf'
  | 'malformed_json'
  | 'invalid_trace_id'
  | 'invalid_span_id'
  | 'invalid_parent_id'
  | 'invalid_span'
  | 'span_too_large';

export const INTAKE_REJECT_REASONS: readonly IntakeRejectReason[] = [
  'content_type',
  'bad_encoding',
  'body_too_large',
  'empty_body',
  'truncated_protobuf',
  'malformed_json',
  'invalid_trace_id',
  'invalid_span_id',
  'invalid_parent_id',
  'invalid_span',
  'span_too_large',
];

/** A body the intake will not take, and why. Never thrown past the server: it becomes a 400. */
export class IntakeRejection extends Error {
  constructor(
    readonly reason: IntakeRejectReason,
    message: string,
  ) {
    super(message);
    this.name = 'IntakeRejection';
  }
}

type Bytes = Uint8Array;
/** protobufjs gives 64-bit fields as Long objects (low and high 32 bits). */
interface LongLike {
  low: number;
  high: number;
}
type Numberish = number | LongLike | string | null | undefined;

/* ---------- protobuf ---------- */

interface PbAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: Numberish;
  doubleValue?: number;
  arrayValue?: { values?: PbAnyValue[] } | null;
  kvlistValue?: { values?: PbKeyValue[] } | null;
  bytesValue?: Bytes;
}
interface PbKeyValue {
  key?: string;
  value?: PbAnyValue | null;
}
interface PbSpan {
  traceId?: Bytes;
  spanId?: Bytes;
  traceState?: string;
  parentSpanId?: Bytes;
  name?: string;
  kind?: number;
  startTimeUnixNano?: Numberish;
  endTimeUnixNano?: Numberish;
  attributes?: PbKeyValue[];
  events?: { timeUnixNano?: Numberish; name?: string; attributes?: PbKeyValue[]; droppedAttributesCount?: number }[];
  links?: { traceId?: Bytes; spanId?: Bytes; traceState?: string; attributes?: PbKeyValue[]; droppedAttributesCount?: number }[];
  status?: { code?: number; message?: string } | null;
}
interface PbRequest {
  resourceSpans?: {
    resource?: { attributes?: PbKeyValue[] } | null;
    scopeSpans?: { scope?: { name?: string; version?: string } | null; spans?: PbSpan[] }[];
  }[];
}

const own = (o: object, key: string): boolean => Object.hasOwn(o, key);

function u64(v: Numberish): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string') return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

function hexId(bytes: Bytes | undefined, size: number, reason: IntakeRejectReason, what: string): string {
  if (bytes === undefined || bytes.length === 0) return '';
  if (bytes.length !== size) throw new IntakeRejection(reason, `${what} must be ${size} bytes, got ${bytes.length}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function pbValue(v: PbAnyValue | null | undefined): OtlpAnyValue {
  if (v === null || v === undefined) return {};
  if (own(v, 'stringValue')) return { stringValue: v.stringValue ?? '' };
  if (own(v, 'boolValue')) return { boolValue: v.boolValue === true };
  if (own(v, 'intValue')) return { intValue: BigInt.asIntN(64, u64(v.intValue)) };
  if (own(v, 'doubleValue')) return { doubleValue: v.doubleValue ?? 0 };
  if (own(v, 'arrayValue')) return { arrayValue: { values: (v.arrayValue?.values ?? []).map(pbValue) } };
  if (own(v, 'kvlistValue')) return { kvlistValue: { values: pbAttributes(v.kvlistValue?.values) } };
  if (own(v, 'bytesValue')) return { bytesValue: v.bytesValue ?? new Uint8Array() };
  return {};
}

function pbAttributes(list: PbKeyValue[] | undefined): OtlpKeyValue[] {
  return (list ?? []).map((kv) => ({ key: kv.key ?? '', value: pbValue(kv.value) }));
}

function pbSpan(s: PbSpan): OtlpSpan {
  return {
    traceId: hexId(s.traceId, 16, 'invalid_trace_id', 'trace_id'),
    spanId: hexId(s.spanId, 8, 'invalid_span_id', 'span_id'),
    traceState: s.traceState ?? '',
    parentSpanId: hexId(s.parentSpanId, 8, 'invalid_parent_id', 'parent_span_id'),
    name: s.name ?? '',
    kind: s.kind ?? 0,
    startTimeUnixNano: u64(s.startTimeUnixNano),
    endTimeUnixNano: u64(s.endTimeUnixNano),
    attributes: pbAttributes(s.attributes),
    events: (s.events ?? []).map((e) => ({
      timeUnixNano: u64(e.timeUnixNano),
      name: e.name ?? '',
      attributes: pbAttributes(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount ?? 0,
    })),
    links: (s.links ?? []).map((l) => ({
      traceId: hexId(l.traceId, 16, 'invalid_trace_id', 'link trace_id'),
      spanId: hexId(l.spanId, 8, 'invalid_span_id', 'link span_id'),
      traceState: l.traceState ?? '',
      attributes: pbAttributes(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount ?? 0,
    })),
    status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
  };
}

/** An OTLP ExportTraceServiceRequest in protobuf. */
export function decodeOtlpProtobuf(body: Bytes): OtlpTraces {
  let message: PbRequest;
  try {
    message = ExportTraceServiceRequest.decode(body) as unknown as PbRequest;
  } catch (err) {
    throw new IntakeRejection('truncated_protobuf', `cannot decode ExportTraceServiceRequest: ${(err as Error).message}`);
  }
  return {
    resourceSpans: (message.resourceSpans ?? []).map((rs) => ({
      resource: { attributes: pbAttributes(rs.resource?.attributes) },
      scopeSpans: (rs.scopeSpans ?? []).map((ss) => ({
        scope: { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' },
        spans: (ss.spans ?? []).map(pbSpan),
      })),
    })),
  };
}

/* ---------- OTLP/JSON ---------- */

type Json = Record<string, unknown>;

function bad(message: string): never {
  throw new IntakeRejection('malformed_json', message);
}

function obj(v: unknown, where: string): Json {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) bad(`${where} must be an object`);
  return v as Json;
}

function arr(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) bad(`${where} must be an array`);
  return v;
}

function str(v: unknown, where: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') bad(`${where} must be a string`);
  return v;
}

function int(v: unknown, where: string, signed: boolean): bigint {
  if (v === undefined || v === null) return 0n;
  let n: bigint;
  if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) n = BigInt(v);
  else return bad(`${where} must be an integer`);
  const min = signed ? -(1n << 63n) : 0n;
  const max = signed ? (1n << 63n) - 1n : (1n << 64n) - 1n;
  if (n < min || n > max) bad(`${where} is out of range`);
  return n;
}

function small(v: unknown, where: string): number {
  return Number(int(v, where, false) & 0xffffffffn);
}

function jsonEnum(v: unknown, names: readonly string[], where: string): number {
  if (typeof v === 'string' && names.includes(v)) return names.indexOf(v);
  return Number(int(v, where, true));
}

function jsonId(v: unknown, bytes: number, reason: IntakeRejectReason, where: string): string {
  const text = str(v, where);
  if (text === '') return '';
  if (text.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(text)) throw new IntakeRejection(reason, `${where} must be ${bytes * 2} hex digits`);
  return text.toLowerCase();
}

function jsonValue(v: unknown, where: string): OtlpAnyValue {
  const o = obj(v, where);
  if ('stringValue' in o) return { stringValue: str(o.stringValue, `${where}.stringValue`) };
  if ('boolValue' in o) {
    if (typeof o.boolValue !== 'boolean') bad(`${where}.boolValue must be a boolean`);
    return { boolValue: o.boolValue };
  }
  if ('intValue' in o) return { intValue: int(o.intValue, `${where}.intValue`, true) };
  if ('doubleValue' in o) {
    const d = o.doubleValue;
    if (typeof d === 'number') return { doubleValue: d };
    if (d === 'NaN' || d === 'Infinity' || d === '-Infinity') return { doubleValue: Number(d) };
    if (typeof d === 'string' && d.trim() !== '' && Number.isFinite(Number(d))) return { doubleValue: Number(d) };
    return bad(`${where}.doubleValue must be a number`);
  }
  if ('arrayValue' in o)
    return {
      arrayValue: {
        values: arr(obj(o.arrayValue, where).values, `${where}.arrayValue.values`).map((x, i) => jsonValue(x, `${where}.arrayValue.values[${i}]`)),
      },
    };
  if ('kvlistValue' in o) return { kvlistValue: { values: jsonAttributes(obj(o.kvlistValue, where).values, `${where}.kvlistValue.values`) } };
  if ('bytesValue' in o) {
    const b = str(o.bytesValue, `${where}.bytesValue`);
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b)) bad(`${where}.bytesValue must be base64`);
    return { bytesValue: Buffer.from(b, 'base64') };
  }
  return {};
}

function jsonAttributes(v: unknown, where: string): OtlpKeyValue[] {
  return arr(v, where).map((kv, i) => {
    const o = obj(kv, `${where}[${i}]`);
    return { key: str(o.key, `${where}[${i}].key`), value: jsonValue(o.value, `${where}[${i}].value`) };
  });
}

const KIND_NAMES = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

function jsonSpan(v: unknown, where: string): OtlpSpan {
  const s = obj(v, where);
  const status = obj(s.status, `${where}.status`);
  return {
    traceId: jsonId(s.traceId, 16, 'invalid_trace_id', `${where}.traceId`),
    spanId: jsonId(s.spanId, 8, 'invalid_span_id', `${where}.spanId`),
    traceState: str(s.traceState, `${where}.traceState`),
    parentSpanId: jsonId(s.parentSpanId, 8, 'invalid_parent_id', `${where}.parentSpanId`),
    name: str(s.name, `${where}.name`),
    kind: jsonEnum(s.kind, KIND_NAMES, `${where}.kind`),
    startTimeUnixNano: int(s.startTimeUnixNano, `${where}.startTimeUnixNano`, false),
    endTimeUnixNano: int(s.endTimeUnixNano, `${where}.endTimeUnixNano`, false),
    attributes: jsonAttributes(s.attributes, `${where}.attributes`),
    events: arr(s.events, `${where}.events`).map((x, i) => {
      const e = obj(x, `${where}.events[${i}]`);
      return {
        timeUnixNano: int(e.timeUnixNano, `${where}.events[${i}].timeUnixNano`, false),
        name: str(e.name, `${where}.events[${i}].name`),
        attributes: jsonAttributes(e.attributes, `${where}.events[${i}].attributes`),
        droppedAttributesCount: small(e.droppedAttributesCount, `${where}.events[${i}].droppedAttributesCount`),
      };
    }),
    links: arr(s.links, `${where}.links`).map((x, i) => {
      const l = obj(x, `${where}.links[${i}]`);
      return {
        traceId: jsonId(l.traceId, 16, 'invalid_trace_id', `${where}.links[${i}].traceId`),
        spanId: jsonId(l.spanId, 8, 'invalid_span_id', `${where}.links[${i}].spanId`),
        traceState: str(l.traceState, `${where}.links[${i}].traceState`),
        attributes: jsonAttributes(l.attributes, `${where}.links[${i}].attributes`),
        droppedAttributesCount: small(l.droppedAttributesCount, `${where}.links[${i}].droppedAttributesCount`),
      };
    }),
    status: { code: jsonEnum(status.code, STATUS_NAMES, `${where}.status.code`), message: str(status.message, `${where}.status.message`) },
  };
}

/** An OTLP ExportTraceServiceRequest in OTLP/JSON. */
export function decodeOtlpJson(body: Bytes): OtlpTraces {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    return bad(`cannot parse JSON: ${(err as Error).message}`);
  }
  const root = obj(parsed, 'request');
  return {
    resourceSpans: arr(root.resourceSpans, 'resourceSpans').map((x, i) => {
      const rs = obj(x, `resourceSpans[${i}]`);
      return {
        resource: { attributes: jsonAttributes(obj(rs.resource, `resourceSpans[${i}].resource`).attributes, `resourceSpans[${i}].resource.attributes`) },
        scopeSpans: arr(rs.scopeSpans, `resourceSpans[${i}].scopeSpans`).map((y, j) => {
          const ss = obj(y, `resourceSpans[${i}].scopeSpans[${j}]`);
          const scope = obj(ss.scope, `resourceSpans[${i}].scopeSpans[${j}].scope`);
          return {
            scope: { name: str(scope.name, 'scope.name'), version: str(scope.version, 'scope.version') },
            spans: arr(ss.spans, `resourceSpans[${i}].scopeSpans[${j}].spans`).map((z, k) => jsonSpan(z, `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`)),
          };
        }),
      };
    }),
  };
}

/* ---------- Zipkin proto3 ---------- */

interface PbZipkinEndpoint {
  serviceName?: string;
  ipv4?: Bytes;
  ipv6?: Bytes;
  port?: number;
}
interface PbZipkinSpan {
  traceId?: Bytes;
  parentId?: Bytes;
  id?: Bytes;
  kind?: number;
  name?: string;
  timestamp?: Numberish;
  duration?: Numberish;
  localEndpoint?: PbZipkinEndpoint | null;
  remoteEndpoint?: PbZipkinEndpoint | null;
  annotations?: { timestamp?: Numberish; value?: string }[];
  tags?: Record<string, string>;
  debug?: boolean;
  shared?: boolean;
}

const ZIPKIN_KINDS = [undefined, 'CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'] as const;

function zipkinEndpoint(e: PbZipkinEndpoint | null | undefined): Span['localEndpoint'] {
  if (e === null || e === undefined) return undefined;
  const out: NonNullable<Span['localEndpoint']> = {};
  if (e.serviceName) out.serviceName = e.serviceName;
  if (e.ipv4 !== undefined && e.ipv4.length === 4) out.ipv4 = [...e.ipv4].join('.');
  if (e.ipv6 !== undefined && e.ipv6.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((e.ipv6[i]! << 8) | e.ipv6[i + 1]!).toString(16));
    out.ipv6 = groups.join(':');
  }
  if (e.port) out.port = e.port;
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * A Zipkin proto3 ListOfSpans as plain spans (ids as hex at their width), to be normalised and
 * checked like JSON spans. Trace ids of 8 or 16 bytes, span ids of 8.
 */
export function decodeZipkinProtobuf(body: Bytes): Span[] {
  let message: { spans?: PbZipkinSpan[] };
  try {
    message = ZipkinListOfSpans.decode(body) as unknown as { spans?: PbZipkinSpan[] };
  } catch (err) {
    throw new IntakeRejection('truncated_protobuf', `cannot decode ListOfSpans: ${(err as Error).message}`);
  }
  return (message.spans ?? []).map((s) => {
    const traceBytes = s.traceId?.length ?? 0;
    if (traceBytes !== 8 && traceBytes !== 16) throw new IntakeRejection('invalid_trace_id', `trace_id must be 8 or 16 bytes, got ${traceBytes}`);
    const span: Span = { traceId: hexId(s.traceId, traceBytes, 'invalid_trace_id', 'trace_id'), id: hexId(s.id, 8, 'invalid_span_id', 'id') };
    if (span.id === '') throw new IntakeRejection('invalid_span_id', 'id must be 8 bytes, got 0');
    const parent = hexId(s.parentId, 8, 'invalid_parent_id', 'parent_id');
    if (parent !== '') span.parentId = parent;
    const kind = ZIPKIN_KINDS[s.kind ?? 0];
    if (kind !== undefined) span.kind = kind;
    if (s.name) span.name = s.name;
    const ts = u64(s.timestamp);
    if (ts > 0n) span.timestamp = Number(ts);
    const d = u64(s.duration);
    if (d > 0n) span.duration = Number(d);
    const local = zipkinEndpoint(s.localEndpoint);
    if (local) span.localEndpoint = local;
    const remote = zipkinEndpoint(s.remoteEndpoint);
    if (remote) span.remoteEndpoint = remote;
    if (s.annotations && s.annotations.length > 0) span.annotations = s.annotations.map((a) => ({ timestamp: Number(u64(a.timestamp)), value: a.value ?? '' }));
    if (s.tags && Object.keys(s.tags).length > 0) span.tags = { ...s.tags };
    if (s.debug) span.debug = true;
    if (s.shared) span.shared = true;
    return span;
  });
}
