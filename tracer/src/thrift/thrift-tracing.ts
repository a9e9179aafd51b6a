import { ROOT_CONTEXT, SpanStatusCode, TraceFlags, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { toZipkinTraceId } from '../ids.js';
import { getB3Details, withRemoteParent } from '../propagation/remote-context.js';
import { RecordingSpan } from '../trace/recording-span.js';
import { TMessageType, TType, type ThriftModule, type ThriftProtocolClass } from './thrift-module.js';
import { firstStringField, type TTwitterTrace } from './tracing-headers.js';

/** What the Thrift wrappers need: the service's tracer (a `Tracing` fits). */
export interface ThriftTracing {
  readonly tracer: Tracer;
}

/** Tag names on Thrift spans (Finagle's binary annotation names where Finagle has one). */
export const THRIFT_TAGS = {
  /** `false` on a server span whose caller did not upgrade to TTwitter (Finagle writes the same). */
  ttwitter: 'srv/thrift/ttwitter',
  /** The caller's RequestHeader.client_id name. */
  clientId: 'srv/thrift/clientId',
} as const;

/** The RequestHeader fields for a client span started in `parent`. */
export function ttwitterTraceOf(span: Span, clientId: string | undefined): TTwitterTrace {
  const spanContext = span.spanContext();
  const traceId = toZipkinTraceId(spanContext.traceId);
  let parentSpanId: string | undefined;
  let sampling: TTwitterTrace['sampling'];
  if (span instanceof RecordingSpan) {
    parentSpanId = span.parentSpanId;
    sampling = span.debug ? 'debug' : 'accept';
  } else {
    const details = spanContext.isRemote ? getB3Details(spanContext) : undefined;
    parentSpanId = details?.parentSpanId;
    sampling = details ? details.sampling : spanContext.traceFlags & TraceFlags.SAMPLED ? 'accept' : 'deny';
  }
  return { traceId, spanId: spanContext.spanId, parentSpanId, sampling, clientId };
}

/**
 * The context a server span starts in: ROOT plus the caller's RequestHeader as a remote parent,
 * so the server span joins the caller's span (same id, shared) as it does for B3.
 */
export function remoteContextOf(header: TTwitterTrace | undefined): Context {
  return header ? withRemoteParent(ROOT_CONTEXT, header) : ROOT_CONTEXT;
}

/**
 * The error a serialized reply carries, if any: an EXCEPTION message (TApplicationException) or a
 * REPLY whose result struct holds a declared exception (field id ≠ 0) instead of `success`.
 * The message is the exception's first string field, else its type. Never throws.
 */
export function replyError(thrift: ThriftModule, Protocol: ThriftProtocolClass, reply: Buffer): string | undefined {
  try {
    const input = new Protocol(new thrift.TFramedTransport(reply));
    const begin = input.readMessageBegin();
    if (begin.mtype === TMessageType.EXCEPTION) return firstStringField(input) || 'TApplicationException';
    if (begin.mtype !== TMessageType.REPLY) return undefined;
    input.readStructBegin();
    const field = input.readFieldBegin();
    if (field.ftype === TType.STOP || field.fid === 0) return undefined;
    const message = field.ftype === TType.STRUCT ? firstStringField(input) : undefined;
    return message || `exception (result field ${field.fid})`;
  } catch {
    return undefined;
  }
}

/** Sets the error status from a callback error (thrift errors, strings, anything). */
export function setErrorStatus(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  let message: string;
  if (err instanceof Error) message = err.message || err.name || 'error';
  else if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    message = (err as { message: string }).message;
  } else message = String(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: message || 'error' });
}

/** Peer address attributes of a socket, for the remote endpoint. */
export function setPeer(span: Span, address: string | undefined, port: number | undefined): void {
  if (!span.isRecording()) return;
  if (address) span.setAttribute('network.peer.address', address);
  if (port) span.setAttribute('network.peer.port', port);
}
