import type { SamplingState } from '@pintrace/sampler';
import { isLowerHexId } from '../ids.js';
import { TType, type ThriftInt64, type ThriftModule, type ThriftProtocol } from './thrift-module.js';

/**
 * Finagle's TTwitter upgrade (finagle-thrift `tracing.thrift`, `ThriftTracing.scala`), as seen on
 * the wire from Finagle 22.7:
 *
 *   handshake  = CALL  "__can__finagle__trace__v3__" seqid 0, body ConnectionOptions {}   (client)
 *                REPLY "__can__finagle__trace__v3__" seqid 0, body UpgradeReply {}        (server)
 *                a plain server answers EXCEPTION (unknown method): the connection stays plain
 *   request    = RequestHeader  message        (after the upgrade, same protocol, no envelope)
 *   reply      = ResponseHeader message        (not for oneway calls)
 *
 *   struct RequestHeader {
 *     1: i64 trace_id, 2: i64 span_id, 3: optional i64 parent_span_id,
 *     5: optional bool sampled, 6: optional ClientId client_id, 7: optional i64 flags,
 *     8: list<RequestContext> contexts, 9: optional string dest,
 *     10: optional list<Delegation> delegations, 11: optional i64 trace_id_high }
 *   struct ClientId { 1: string name }
 *   struct ResponseHeader { 1: list<Span> spans, 2: list<RequestContext> contexts }
 *   flags: Debug = 1 << 0, SamplingKnown = 1 << 1, Sampled = 1 << 2
 *
 * Ids are signed i64 on the wire and 16 lower-hex characters here (two's complement);
 * trace_id_high ≠ 0 makes a 128-bit trace id (high ‖ low).
 */
export const CAN_TRACE_METHOD = '__can__finagle__trace__v3__';

const FLAG_DEBUG = 1;
const FLAG_SAMPLING_KNOWN = 2;
const FLAG_SAMPLED = 4;
const ZERO = '0000000000000000';

/** The trace context a RequestHeader carries, ids in Zipkin form. */
export interface TTwitterTrace {
  /** 16 lower-hex, or 32 when trace_id_high is set. */
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  /** Absent: the caller has not decided. */
  readonly sampling?: SamplingState;
  /** ClientId.name, when the caller set one. */
  readonly clientId?: string;
}

function toI64(thrift: ThriftModule, hex: string): ThriftInt64 {
  return new thrift.Int64(Buffer.from(hex, 'hex'));
}

function hexOf(value: ThriftInt64): string {
  const offset = value.offset ?? 0;
  return value.buffer.toString('hex', offset, offset + 8);
}

function writeI64Field(out: ThriftProtocol, thrift: ThriftModule, name: string, id: number, hex: string): void {
  out.writeFieldBegin(name, TType.I64, id);
  out.writeI64(toI64(thrift, hex));
  out.writeFieldEnd();
}

/** Writes a RequestHeader struct for `trace` (ids must be valid hex, as the tracer makes them). */
export function writeRequestHeader(out: ThriftProtocol, thrift: ThriftModule, trace: TTwitterTrace): void {
  const traceId = trace.traceId;
  const low = traceId.length === 32 ? traceId.slice(16) : traceId;
  const high = traceId.length === 32 ? traceId.slice(0, 16) : undefined;
  out.writeStructBegin('RequestHeader');
  writeI64Field(out, thrift, 'trace_id', 1, low);
  writeI64Field(out, thrift, 'span_id', 2, trace.spanId);
  if (trace.parentSpanId) writeI64Field(out, thrift, 'parent_span_id', 3, trace.parentSpanId);
  if (trace.sampling !== undefined) {
    out.writeFieldBegin('sampled', TType.BOOL, 5);
    out.writeBool(trace.sampling !== 'deny');
    out.writeFieldEnd();
  }
  if (trace.clientId) {
    out.writeFieldBegin('client_id', TType.STRUCT, 6);
    out.writeStructBegin('ClientId');
    out.writeFieldBegin('name', TType.STRING, 1);
    out.writeString(trace.clientId);
    out.writeFieldEnd();
    out.writeFieldStop();
    out.writeStructEnd();
    out.writeFieldEnd();
  }
  writeI64Field(out, thrift, 'flags', 7, trace.sampling === 'debug' ? '0000000000000001' : ZERO);
  out.writeFieldBegin('contexts', TType.LIST, 8);
  out.writeListBegin(TType.STRUCT, 0);
  out.writeListEnd();
  out.writeFieldEnd();
  if (high && high !== ZERO) writeI64Field(out, thrift, 'trace_id_high', 11, high);
  out.writeFieldStop();
  out.writeStructEnd();
}

/**
 * Reads a RequestHeader struct. Returns the trace context, or undefined when the ids are zero
 * (no usable context); fields it does not use (contexts, dest, delegations) are skipped.
 * Throws what the protocol throws on truncated input (the caller waits for more bytes).
 */
export function readRequestHeader(input: ThriftProtocol): TTwitterTrace | undefined {
  let low = ZERO;
  let high = ZERO;
  let spanId = ZERO;
  let parentSpanId: string | undefined;
  let sampled: boolean | undefined;
  let flags = 0;
  let clientId: string | undefined;
  input.readStructBegin();
  for (;;) {
    const field = input.readFieldBegin();
    if (field.ftype === TType.STOP) break;
    if (field.ftype === TType.I64 && (field.fid === 1 || field.fid === 2 || field.fid === 3 || field.fid === 7 || field.fid === 11)) {
      const hex = hexOf(input.readI64());
      if (field.fid === 1) low = hex;
      else if (field.fid === 2) spanId = hex;
      else if (field.fid === 3) parentSpanId = hex;
      else if (field.fid === 7) flags = Number.parseInt(hex.slice(8), 16) | 0;
      else high = hex;
    } else if (field.fid === 5 && field.ftype === TType.BOOL) {
      sampled = input.readBool();
    } else if (field.fid === 6 && field.ftype === TType.STRUCT) {
      clientId = readClientId(input);
    } else {
      input.skip(field.ftype);
    }
    input.readFieldEnd();
  }
  input.readStructEnd();
  const traceId = high === ZERO ? low : high + low;
  if (!isLowerHexId(traceId, traceId.length === 32 ? 32 : 16) || !isLowerHexId(spanId, 16)) return undefined;
  const out: { -readonly [K in keyof TTwitterTrace]: TTwitterTrace[K] } = { traceId, spanId };
  if (parentSpanId && parentSpanId !== ZERO) out.parentSpanId = parentSpanId;
  const sampling = samplingOf(sampled, flags);
  if (sampling) out.sampling = sampling;
  if (clientId) out.clientId = clientId;
  return out;
}

function readClientId(input: ThriftProtocol): string | undefined {
  let name: string | undefined;
  input.readStructBegin();
  for (;;) {
    const field = input.readFieldBegin();
    if (field.ftype === TType.STOP) break;
    if (field.fid === 1 && field.ftype === TType.STRING) name = input.readString();
    else input.skip(field.ftype);
    input.readFieldEnd();
  }
  input.readStructEnd();
  return name;
}

function samplingOf(sampled: boolean | undefined, flags: number): SamplingState | undefined {
  if (flags & FLAG_DEBUG) return 'debug';
  if (sampled !== undefined) return sampled ? 'accept' : 'deny';
  if (flags & FLAG_SAMPLING_KNOWN) return flags & FLAG_SAMPLED ? 'accept' : 'deny';
  return undefined;
}

/** An empty struct: ConnectionOptions, UpgradeReply, and the ResponseHeader we send. */
export function writeEmptyStruct(out: ThriftProtocol, name: string): void {
  out.writeStructBegin(name);
  out.writeFieldStop();
  out.writeStructEnd();
}

/**
 * The first string field of the struct at the reader's position (TApplicationException's
 * message, or `message` of a typical declared exception), skipping the rest. Never throws.
 */
export function firstStringField(input: ThriftProtocol): string | undefined {
  try {
    let found: string | undefined;
    input.readStructBegin();
    for (;;) {
      const field = input.readFieldBegin();
      if (field.ftype === TType.STOP) break;
      if (found === undefined && field.ftype === TType.STRING) found = input.readString();
      else input.skip(field.ftype);
      input.readFieldEnd();
    }
    return found;
  } catch {
    return undefined;
  }
}
