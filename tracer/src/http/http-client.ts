import type { ClientRequest, IncomingMessage } from 'node:http';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { HTTP_TAGS, pathOf, peerOf, requestSetter, statusText, type HttpClientOptions, type HttpTracing } from './http-tracing.js';

/** The shape of `http.request` / `https.request`. */
export type RequestFunction = (...args: any[]) => ClientRequest;

/**
 * Returns a function with the signature of `original` (`http.request` or `https.request`) that
 * traces each outgoing request with a CLIENT span and injects its trace context as headers:
 * - the span is a child of the caller's active span, named after the method (lower-case), tagged
 *   http.method and http.path; the server's address becomes the remote endpoint;
 * - it ends when the response headers arrive (tagging http.status_code, error on 5xx), or when the
 *   request fails (error = the error message), as Brave's HTTP client does;
 * - the response callback and the listeners of the request and the response run in the caller's
 *   context, even on a reused keep-alive socket.
 * Arguments are passed through untouched; if the headers can no longer be set (e.g. `headers`
 * given as a raw array) the request goes out without them. Errors in the instrumentation never
 * reach the caller; errors `original` throws (bad arguments) do, unchanged.
 */
export function wrapRequest<F extends RequestFunction>(tracing: HttpTracing, original: F, options: HttpClientOptions = {}): F {
  const traced = function (this: unknown, ...args: unknown[]): ClientRequest {
    const callerContext = context.active();
    const last = args.length - 1;
    if (last >= 0 && typeof args[last] === 'function') {
      args[last] = context.bind(callerContext, args[last] as (res: IncomingMessage) => void);
    }
    const req = original.apply(this, args);
    try {
      startClientSpan(tracing, req, callerContext, options);
    } catch {
      // untraced request
    }
    return req;
  };
  return traced as F;
}

/** `http.get` on top of a (wrapped) request function: request, then end() at once. */
export function getFrom<F extends RequestFunction>(request: F): F {
  const get = function (this: unknown, ...args: unknown[]): ClientRequest {
    const req = request.apply(this, args);
    req.end();
    return req;
  };
  return get as F;
}

function startClientSpan(tracing: HttpTracing, req: ClientRequest, callerContext: ReturnType<typeof context.active>, options: HttpClientOptions): void {
  context.bind(callerContext, req);
  if (options.ignoreOutgoing?.(req)) return;
  const method = (req.method || 'GET').toUpperCase();
  const span = tracing.tracer.startSpan(
    method.toLowerCase(),
    { kind: SpanKind.CLIENT, attributes: { [HTTP_TAGS.method]: method, [HTTP_TAGS.path]: pathOf(req.path) } },
    callerContext,
  );
  tracing.propagator.inject(trace.setSpan(callerContext, span), req, requestSetter);
  if (!span.isRecording()) return;
  observe(req, span, callerContext);
}

/**
 * Watches the request's own `emit` rather than adding listeners: a 'response' listener would stop
 * Node from discarding an unread response (leaking the socket), an 'error' listener would hide an
 * error the app does not handle. Behaviour stays exactly as without tracing.
 */
function observe(req: ClientRequest, span: Span, callerContext: ReturnType<typeof context.active>): void {
  const emit = req.emit;
  req.emit = function (this: ClientRequest, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'response') {
      const res = args[0] as IncomingMessage;
      context.bind(callerContext, res);
      endClientSpan(span, req, res.statusCode, undefined);
    } else if (event === 'error') {
      endClientSpan(span, req, undefined, args[0] as Error);
    } else if (event === 'close') {
      endClientSpan(span, req, undefined, undefined);
    }
    return emit.call(this, event, ...args);
  } as ClientRequest['emit'];
}

function endClientSpan(span: Span, req: ClientRequest, status: number | undefined, err: Error | undefined): void {
  if (!span.isRecording()) return;
  try {
    const { address, port } = peerOf(req.socket);
    if (address) span.setAttribute('network.peer.address', address);
    if (port) span.setAttribute('network.peer.port', port);
    if (status !== undefined) {
      span.setAttribute(HTTP_TAGS.statusCode, statusText(status));
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: statusText(status) });
    } else if (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err.message || err.name || 'error' });
    } else {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'closed before response' });
    }
    span.end();
  } catch {
    // never throw from a request listener
  }
}
