import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { addUnboundListener } from '../context/bind-emitter.js';
import { bindHttpExchange, withContext } from '../context/global-context.js';
import { ROOT } from '../context/linked-context.js';
import { RecordingSpan } from '../trace/recording-span.js';
import { PintraceTracer, startOwnSpan } from '../trace/tracer.js';
import {
  headersGetter,
  HTTP_TAGS,
  NO_TRACE_HEADERS,
  pathOf,
  peerOf,
  statusText,
  traceHeadersOf,
  type HttpServerOptions,
  type HttpTracing,
} from './http-tracing.js';

/**
 * Where web frameworks report the matched route: the key of @opentelemetry/core's RPC metadata
 * (`getRPCMetadata`/`setRPCMetadata`), a `Symbol.for` key, so it is the same symbol whichever
 * copy of the API made it. OTel's instrumentation-http puts `{ type: 'http', span }` there for each
 * request, and instrumentations such as express's and fastify's write `route` into it; we do the
 * same, so those report their route to our server span without depending on @opentelemetry/core.
 */
const RPC_METADATA_KEY = Symbol.for('OpenTelemetry SDK Context Key RPC_METADATA');

/** The request's RPC metadata as @opentelemetry/core defines it (type 'http'). */
interface HttpRpcMetadata {
  type: 'http';
  span: Span;
  route?: string;
}

/**
 * The request whose handler runs now, below traceIncoming: a traced listener in a patched server
 * calls traceIncoming again, synchronously, for the same request, which must then stand aside.
 * Compared by identity, as a mark on the request would add a property to every request.
 */
let handling: IncomingMessage | undefined;

/**
 * The span name of a method Node's parser reports (upper case already), without a case
 * conversion per request; undefined for others. Compares against literals, where a lookup in a
 * null-prototype table hashed the method in a dictionary.
 */
function knownMethodName(method: string): string | undefined {
  switch (method) {
    case 'GET':
      return 'get';
    case 'POST':
      return 'post';
    case 'PUT':
      return 'put';
    case 'DELETE':
      return 'delete';
    case 'HEAD':
      return 'head';
    case 'PATCH':
      return 'patch';
    case 'OPTIONS':
      return 'options';
    default:
      return undefined;
  }
}

/**
 * Runs `next` (the code that handles one incoming request) inside a SERVER span:
 * - the trace context is extracted from the request headers on top of the ROOT context, so
 *   nothing from the connection (or an earlier request on a keep-alive socket) leaks in;
 * - the span is named after the method (lower-case) and tagged http.method and http.path
 *   (without query); the caller's address becomes the remote endpoint; when a framework reports
 *   the matched route (OTel RPC metadata, or `http.route` on this span), the span is renamed
 *   `<method> <route>` and tagged `http.route`;
 * - listeners added to `req` and `res` in the handler run in the request's context, so they see
 *   this span (see bindHttpExchange);
 * - when the response finishes (or the connection closes first), http.status_code is tagged,
 *   a 5xx sets the error tag to the status code, and the span ends.
 * Errors in the instrumentation are swallowed (the request then runs untraced); errors thrown by
 * `next` propagate unchanged.
 */
export function traceIncoming<R>(tracing: HttpTracing, req: IncomingMessage, res: ServerResponse, next: () => R, options: HttpServerOptions = {}): R {
  let requestContext: Context;
  try {
    if (req === handling || options.ignoreIncoming?.(req)) return next();
    // only the trace headers, read from rawHeaders: no need to build req.headers for this
    const headers = traceHeadersOf(req);
    const tracer = tracing.tracer;
    const path = pathOf(req.url);
    // a root is decided before its span is made: not sampled, it needs no name and no attributes
    const early = headers === NO_TRACE_HEADERS && tracer instanceof PintraceTracer ? tracer.unsampledRootContext(path) : undefined;
    requestContext = typeof early === 'object' ? early : startServerSpan(tracing, req, res, headers, path, early === 'sampled');
    bindHttpExchange(requestContext, req, res);
  } catch {
    return next();
  }
  const outer = handling;
  handling = req;
  try {
    return withContext(requestContext, next);
  } finally {
    handling = outer;
  }
}

/** The request's context with its SERVER span (see traceIncoming); `reservedRoot`, see startOwnSpan. */
function startServerSpan(
  tracing: HttpTracing,
  req: IncomingMessage,
  res: ServerResponse,
  headers: IncomingHttpHeaders,
  path: string,
  reservedRoot: boolean,
): Context {
  const parent = headers === NO_TRACE_HEADERS ? ROOT : tracing.propagator.extract(ROOT, headers, headersGetter);
  const known = knownMethodName(req.method ?? 'GET');
  const method = known === undefined ? (req.method ?? 'GET').toUpperCase() : req.method!;
  // literal keys (HTTP_TAGS.method, HTTP_TAGS.path): computed keys build the object slowly
  const attributes: Record<string, string | number> = { 'http.method': method, 'http.path': path };
  const span = startOwnSpan(tracing.tracer, known ?? method.toLowerCase(), { kind: SpanKind.SERVER, attributes }, parent, reservedRoot);
  let requestContext = trace.setSpan(parent, span);
  if (span.isRecording()) {
    // the peer address costs a getpeername call: only for sampled spans
    const { address, port } = peerOf(req.socket);
    // our span kept our literal: named stores on its one shape, room made for the status too
    const own = span instanceof RecordingSpan && span.attributes === attributes && span.reserveAttributes((address ? 1 : 0) + (port ? 1 : 0) + 1);
    if (own) {
      if (address) attributes['network.peer.address'] = address;
      if (port) attributes['network.peer.port'] = port;
    } else {
      if (address) span.setAttribute('network.peer.address', address);
      if (port) span.setAttribute('network.peer.port', port);
    }
    // the route renames the span, which an unsampled one does not have
    const rpc: HttpRpcMetadata = { type: 'http', span };
    requestContext = requestContext.setValue(RPC_METADATA_KEY, rpc);
    // added outside the request's context: this listener needs none, and so is not wrapped
    endOnResponse(span, res, method, rpc, own ? attributes : undefined);
  }
  return requestContext;
}

/** `own`: the span's attributes object, with room made for the status code (see traceIncoming). */
function endOnResponse(span: Span, res: ServerResponse, method: string, rpc: HttpRpcMetadata, own: Record<string, string | number> | undefined): void {
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    try {
      // a framework's route (RPC metadata, or an http.route attribute set on this span) names
      // the span, as OTel's HTTP semantic conventions ask: `GET /users/:id`, not `GET`
      const route = rpc.route ?? routeAttributeOf(span);
      if (typeof route === 'string' && route.length > 0) {
        span.setAttribute(HTTP_TAGS.route, route);
        span.updateName(`${method} ${route}`);
      }
      const status = res.statusCode;
      if (own !== undefined) own['http.status_code'] = statusText(status);
      else span.setAttribute(HTTP_TAGS.statusCode, statusText(status));
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: statusText(status) });
      span.end();
    } catch {
      // never throw from a response listener
    }
  };
  // a ServerResponse emits 'close' once, after 'finish', or alone when the connection dies first
  addUnboundListener(res, 'close', finish);
}

function routeAttributeOf(span: Span): unknown {
  return span instanceof RecordingSpan ? span.attributes[HTTP_TAGS.route] : undefined;
}

/**
 * Wraps a request listener so each request it handles is traced (see {@link traceIncoming}):
 * `http.createServer(traceRequestListener(tracing, handler))`.
 */
export function traceRequestListener(
  tracing: HttpTracing,
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  options?: HttpServerOptions,
): RequestListener {
  return function tracedListener(this: unknown, req: IncomingMessage, res: ServerResponse): void {
    traceIncoming(tracing, req, res, () => listener.call(this, req, res), options);
  };
}
