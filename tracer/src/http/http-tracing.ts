import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TextMapGetter, TextMapPropagator, TextMapSetter, Tracer } from '@opentelemetry/api';

/** What the HTTP instrumentation needs: a tracer to start spans and a propagator for headers. */
export interface HttpTracing {
  readonly tracer: Tracer;
  readonly propagator: TextMapPropagator;
}

export interface HttpServerOptions {
  /** Return true to leave a request untraced (health checks, metrics scrapes). */
  ignoreIncoming?: (req: IncomingMessage) => boolean;
}

export interface HttpClientOptions {
  /** Return true to leave an outgoing request untraced (no span, no headers). */
  ignoreOutgoing?: (req: ClientRequest) => boolean;
}

export type HttpInstrumentationOptions = HttpServerOptions & HttpClientOptions;

/** Tag names, as Brave and zipkin-js write them. */
export const HTTP_TAGS = {
  method: 'http.method',
  path: 'http.path',
  statusCode: 'http.status_code',
  /** The framework's matched route template (`/users/:id`), when one reports it. */
  route: 'http.route',
} as const;

/** The status codes' tag values, made once: String(status) per span made a string per span. */
const STATUS_TEXTS: readonly string[] = Array.from({ length: 600 }, (_, code) => String(code));

/** An HTTP status code as its tag value (and error message): `String(status)`. */
export function statusText(status: number): string {
  return status >= 0 && status < 600 && (status | 0) === status ? STATUS_TEXTS[status] : String(status);
}

export const headersGetter: TextMapGetter<IncomingHttpHeaders> = {
  get: (headers, key) => headers[key],
  keys: (headers) => Object.keys(headers),
};

export const requestSetter: TextMapSetter<ClientRequest> = {
  set: (req, key, value) => {
    req.setHeader(key, value);
  },
};

const TRACE_HEADERS = new Set(['b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'traceparent', 'tracestate']);
/** 1 at the lengths of those names: most other headers are skipped before being lower-cased. */
const TRACE_HEADER_LENGTHS = new Uint8Array(32);
for (const name of TRACE_HEADERS) TRACE_HEADER_LENGTHS[name.length] = 1;

/**
 * The trace headers of an incoming request (first value of each; `tracestate` values joined with
 * ","), read in one pass over `rawHeaders` so that Node does not have to build `req.headers` for
 * the tracer. Names that cannot be trace headers are skipped by their first character.
 */
export function traceHeadersOf(req: IncomingMessage): IncomingHttpHeaders {
  const raw = req.rawHeaders;
  if (!Array.isArray(raw)) return req.headers;
  let found: IncomingHttpHeaders | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    const c = name.charCodeAt(0) | 0x20;
    if (c !== 0x62 /* b */ && c !== 0x78 /* x */ && c !== 0x74 /* t */) continue;
    if (TRACE_HEADER_LENGTHS[name.length] !== 1) continue;
    const lower = name.toLowerCase();
    if (!TRACE_HEADERS.has(lower)) continue;
    found ??= {};
    const existing = found[lower];
    if (existing === undefined) found[lower] = raw[i + 1];
    else if (lower === 'tracestate') found[lower] = `${existing as string},${raw[i + 1]}`;
  }
  return found ?? NO_TRACE_HEADERS;
}

/** What traceHeadersOf returns for a request without trace headers (compare by identity). */
export const NO_TRACE_HEADERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;

/** The path of a request target, without query or fragment. */
export function pathOf(target: string | undefined): string {
  if (!target) return '/';
  // one scan for the first '?' or '#' (two indexOf calls cost more on the short targets of most
  // requests); a target without either is returned as it is, not sliced
  let end = 0;
  const length = target.length;
  while (end < length) {
    const c = target.charCodeAt(end);
    if (c === 0x3f /* ? */ || c === 0x23 /* # */) break;
    end++;
  }
  const path = end === length ? target : target.slice(0, end);
  if (target.charCodeAt(0) === 0x2f /* / */) return path;
  // absolute-form target (proxies): keep only the path
  try {
    return new URL(path).pathname;
  } catch {
    return path || '/';
  }
}

/** The far end of a connection, as `getpeername` gives it. */
export interface Peer {
  address?: string;
  port?: number;
}

const NO_PEER: Peer = Object.freeze({});
/** Kept apart from the sockets: a WeakMap entry does not change a socket's hidden class. */
const peers = new WeakMap<Socket, Peer>();

/**
 * The peer of a socket, for sampled spans only. Not `socket.remoteAddress`: that getter caches the
 * peer in a `_peername` property added to the socket, so the sockets that carried a sampled
 * request would get a shape of their own, and node:net's and node:http's code would then handle
 * two socket shapes on every request, sampled or not (bench/README.md, tracer, 2026-12-06). The
 * handle's `getpeername` is what that getter calls; a socket without one (closed already, or a
 * stream a library wraps) falls back to the getter, which adds nothing to a net.Socket without a
 * handle.
 */
export function peerOf(socket: Socket | null | undefined): Peer {
  if (!socket) return NO_PEER;
  let peer = peers.get(socket);
  if (peer !== undefined) return peer;
  const handle = (socket as unknown as { _handle?: { getpeername?: (out: Peer) => number } | null })._handle;
  if (typeof handle?.getpeername !== 'function') return { address: socket.remoteAddress, port: socket.remotePort };
  peer = {};
  // not cached until connected: a client socket's first spans may end before it is
  if (handle.getpeername(peer) !== 0) return NO_PEER;
  peers.set(socket, peer);
  return peer;
}
