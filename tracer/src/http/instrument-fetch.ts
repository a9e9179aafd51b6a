import diagnosticsChannel from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { context, SpanKind, SpanStatusCode, trace, type Span, type TextMapSetter } from '@opentelemetry/api';
import { HTTP_TAGS, pathOf, peerOf, statusText, type HttpTracing } from './http-tracing.js';

/** The parts of undici's request object (as published on its diagnostics channels) we use. */
export interface UndiciRequest {
  readonly origin?: string | URL;
  readonly method?: string;
  readonly path?: string;
  headers?: unknown;
  addHeader?(name: string, value: string): unknown;
}

export interface FetchInstrumentationOptions {
  /** Return true to leave a request untraced (no span, no headers). */
  ignoreOutgoingFetch?: (request: UndiciRequest) => boolean;
}

const CHANNELS = {
  create: 'undici:request:create',
  sendHeaders: 'undici:client:sendHeaders',
  headers: 'undici:request:headers',
  error: 'undici:request:error',
} as const;

const INSTALLED = Symbol.for('pintrace.fetch.instrumented');
type Flagged = typeof globalThis & { [INSTALLED]?: true };

const undiciSetter: TextMapSetter<UndiciRequest> = {
  set: (request, name, value) => {
    if (typeof request.addHeader === 'function') request.addHeader(name, value);
    else if (Array.isArray(request.headers)) request.headers.push(name, value);
    else if (typeof request.headers === 'string') request.headers += `${name}: ${value}\r\n`;
  },
};

function hasHeader(request: UndiciRequest, name: string): boolean {
  const headers = request.headers;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return true;
    return false;
  }
  return typeof headers === 'string' && headers.toLowerCase().includes(`${name}:`);
}

/**
 * Traces `fetch` (and any undici client) through undici's diagnostics_channel events, without
 * patching anything:
 * - `undici:request:create`: a CLIENT span, child of the context active where `fetch` was called,
 *   named after the method, tagged http.method and http.path; the trace context is added to the
 *   request's headers (a request that already carries `traceparent` or B3 headers is left alone);
 * - `undici:client:sendHeaders`: the socket's peer address and port become the remote endpoint;
 * - `undici:request:headers`: http.status_code (error on 5xx), and the span ends, as for
 *   node:http clients; `undici:request:error`: error = the message, and the span ends.
 * Spans are found by the request object, never through the active context, so nothing leaks
 * between requests that share a pooled keep-alive connection. Handlers never throw.
 * Returns a function that unsubscribes. One instrumentation per process: a second call while
 * installed returns a no-op.
 */
export function instrumentFetch(tracing: HttpTracing, options: FetchInstrumentationOptions = {}): () => void {
  const flags = globalThis as Flagged;
  if (flags[INSTALLED]) return () => undefined;
  const spans = new WeakMap<object, Span>();

  const onCreate = (message: unknown): void => {
    try {
      const request = (message as { request?: UndiciRequest }).request;
      if (!request || options.ignoreOutgoingFetch?.(request)) return;
      if (hasHeader(request, 'traceparent') || hasHeader(request, 'b3') || hasHeader(request, 'x-b3-traceid')) return;
      const active = context.active();
      const method = (request.method || 'GET').toUpperCase();
      const span = tracing.tracer.startSpan(
        method.toLowerCase(),
        { kind: SpanKind.CLIENT, attributes: { [HTTP_TAGS.method]: method, [HTTP_TAGS.path]: pathOf(request.path) } },
        active,
      );
      tracing.propagator.inject(trace.setSpan(active, span), request, undiciSetter);
      if (span.isRecording()) spans.set(request, span);
    } catch {
      // untraced request
    }
  };
  const onSendHeaders = (message: unknown): void => {
    try {
      const { request, socket } = message as { request: object; socket?: Socket };
      const span = spans.get(request);
      if (!span || !socket) return;
      const { address, port } = peerOf(socket);
      if (address) span.setAttribute('network.peer.address', address);
      if (port) span.setAttribute('network.peer.port', port);
    } catch {
      // keep going without the endpoint
    }
  };
  const onHeaders = (message: unknown): void => {
    try {
      const { request, response } = message as { request: object; response?: { statusCode?: number } };
      const span = spans.get(request);
      if (!span) return;
      spans.delete(request);
      const status = response?.statusCode;
      if (typeof status === 'number') {
        span.setAttribute(HTTP_TAGS.statusCode, statusText(status));
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: statusText(status) });
      }
      span.end();
    } catch {
      // never throw into undici
    }
  };
  const onError = (message: unknown): void => {
    try {
      const { request, error } = message as { request: object; error?: Error };
      const span = spans.get(request);
      if (!span) return;
      spans.delete(request);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error?.message || error?.name || 'error' });
      span.end();
    } catch {
      // never throw into undici
    }
  };

  const subscriptions: Array<[string, (message: unknown) => void]> = [
    [CHANNELS.create, onCreate],
    [CHANNELS.sendHeaders, onSendHeaders],
    [CHANNELS.headers, onHeaders],
    [CHANNELS.error, onError],
  ];
  for (const [name, handler] of subscriptions) diagnosticsChannel.subscribe(name, handler);
  flags[INSTALLED] = true;
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    for (const [name, handler] of subscriptions) diagnosticsChannel.unsubscribe(name, handler);
    delete flags[INSTALLED];
  };
}
