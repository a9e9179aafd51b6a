import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
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
} as const;

export const headersGetter: TextMapGetter<IncomingHttpHeaders> = {
  get: (headers, key) => headers[key],
  keys: (headers) => Object.keys(headers),
};

export const requestSetter: TextMapSetter<ClientRequest> = {
  set: (req, key, value) => {
    req.setHeader(key, value);
  },
};

/** The path of a request target, without query or fragment. */
export function pathOf(target: string | undefined): string {
  if (!target) return '/';
  let end = target.length;
  const query = target.indexOf('?');
  if (query >= 0) end = query;
  const hash = target.indexOf('#');
  if (hash >= 0 && hash < end) end = hash;
  const path = target.slice(0, end);
  if (path.startsWith('/')) return path;
  // absolute-form target (proxies): keep only the path
  try {
    return new URL(path).pathname;
  } catch {
    return path || '/';
  }
}
