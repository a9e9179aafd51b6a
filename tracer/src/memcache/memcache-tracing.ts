import { context, SpanKind, SpanStatusCode, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { parseIp } from '@pintrace/model';

/** What the memcache instrumentation needs: the service's tracer (a `Tracing` fits). */
export interface MemcacheTracing {
  readonly tracer: Tracer;
}

export interface MemcacheTracingOptions {
  /** The memcache cluster's name, tagged on every span (Pintrace's `memcache.cluster`). Default `memcached`. */
  cluster?: string;
  /** Remote service name in Zipkin (the dependency graph's node). Default: the cluster name. */
  remoteServiceName?: string;
  /** The server's `host:port` when the client's options do not say it (several servers, a proxy). */
  server?: string;
  /** Tag the key (`memcache.key`; multi-gets: the count only). Default false: keys can be private. */
  recordKeys?: boolean;
}

/** Tag names on memcache spans. */
export const MEMCACHE_TAGS = {
  cluster: 'memcache.cluster',
  /** `true`/`false` on single-key reads, deletes, incr/decr and touch. */
  hit: 'memcache.hit',
  /** Multi-key reads: number of keys asked and found. */
  keys: 'memcache.keys',
  hits: 'memcache.hits',
  /** A store that did not happen (`NOT_STORED`, `EXISTS`): an outcome, not an error. */
  result: 'memcache.result',
  key: 'memcache.key',
} as const;

/** memcache-client's commands, by what their result means. */
const COMMANDS = {
  get: 'read',
  gets: 'read',
  set: 'store',
  add: 'store',
  replace: 'store',
  append: 'store',
  prepend: 'store',
  cas: 'store',
  delete: 'keyed',
  incr: 'keyed',
  decr: 'keyed',
  touch: 'keyed',
} as const;

type CommandKind = (typeof COMMANDS)[keyof typeof COMMANDS];
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

const TRACED = Symbol.for('pintrace.memcache.traced');

/** The client shape: memcache-client's MemcacheClient (`options.server` is where it connects). */
export interface MemcacheClientLike {
  options?: { server?: unknown };
}

/**
 * Traces a memcache-client `MemcacheClient` in place and returns it: each command
 * (get, gets, set, add, replace, append, prepend, cas, delete, incr, decr, touch) becomes a CLIENT
 * span named `memcache_<command>` (`memcache_get_multi` for a multi-key read), child of the
 * caller's active span, tagged with the cluster name and the outcome:
 * - reads: `memcache.hit` (single key) or `memcache.keys` / `memcache.hits` (multi-get);
 * - `NOT_FOUND` is a miss (`memcache.hit=false`), `NOT_STORED` / `EXISTS` an outcome
 *   (`memcache.result`), anything else an error (`error` = the message);
 * - the server (from the client's `server` option or `options.server`) is the remote endpoint,
 *   named after the cluster.
 * The promise each command returns is the client's own; callbacks run in the caller's context.
 * Wrapping twice changes nothing.
 */
export function traceMemcacheClient<T extends object>(tracing: MemcacheTracing, client: T, options: MemcacheTracingOptions = {}): T {
  const target = client as T & Record<string | symbol, unknown>;
  if (target[TRACED]) return client;
  const cluster = options.cluster ?? 'memcached';
  const remote = remoteAttributes(options.server ?? serverOf(client as MemcacheClientLike));
  remote['peer.service'] = options.remoteServiceName ?? cluster;
  for (const [command, kind] of Object.entries(COMMANDS) as Array<[keyof typeof COMMANDS, CommandKind]>) {
    const original = target[command];
    if (typeof original !== 'function') continue;
    const traced = function (this: unknown, ...args: unknown[]): unknown {
      const callerContext = context.active();
      let finish: ((err: unknown, data: unknown) => void) | undefined;
      try {
        const key = args[0];
        const multi = Array.isArray(key);
        const attributes: Attributes = { ...remote, [MEMCACHE_TAGS.cluster]: cluster };
        if (options.recordKeys && typeof key === 'string') attributes[MEMCACHE_TAGS.key] = key;
        if (multi) attributes[MEMCACHE_TAGS.keys] = key.length;
        const name = `memcache_${command}${multi ? '_multi' : ''}`;
        const span = tracing.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, callerContext);
        finish = finisher(span, kind, multi);
        const last = args.length - 1;
        if (last >= 0 && typeof args[last] === 'function') {
          const callback = args[last] as AnyFunction;
          const done = finish;
          args[last] = function (this: unknown, err: unknown, data: unknown, ...rest: unknown[]): unknown {
            done(err, data);
            return context.with(callerContext, callback, this, err, data, ...rest);
          };
        }
      } catch {
        // untraced call
      }
      let result: unknown;
      try {
        result = (original as AnyFunction).apply(this, args);
      } catch (err) {
        finish?.(err, undefined);
        throw err;
      }
      if (finish && isThenable(result)) {
        const done = finish;
        result.then(
          (data) => done(undefined, data),
          (err: unknown) => done(err, undefined),
        );
      }
      return result;
    };
    Object.defineProperty(target, command, { value: traced, writable: true, configurable: true, enumerable: false });
  }
  Object.defineProperty(target, TRACED, { value: true, configurable: true });
  return client;
}

/** Ends the span once, with what the outcome says. */
function finisher(span: Span, kind: CommandKind, multi: boolean): (err: unknown, data: unknown) => void {
  let done = false;
  return (err, data) => {
    if (done) return;
    done = true;
    try {
      if (span.isRecording()) record(span, kind, multi, err, data);
      span.end();
    } catch {
      // never throw into the caller
    }
  };
}

function record(span: Span, kind: CommandKind, multi: boolean, err: unknown, data: unknown): void {
  const message = err === undefined || err === null ? undefined : err instanceof Error ? err.message : String(err);
  if (message === 'NOT_FOUND') {
    span.setAttribute(MEMCACHE_TAGS.hit, 'false');
    return;
  }
  if (message === 'NOT_STORED' || message === 'EXISTS') {
    span.setAttribute(MEMCACHE_TAGS.result, message);
    return;
  }
  if (message !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: message || 'error' });
    return;
  }
  if (kind === 'read') {
    if (multi) span.setAttribute(MEMCACHE_TAGS.hits, data && typeof data === 'object' ? Object.keys(data).length : 0);
    else span.setAttribute(MEMCACHE_TAGS.hit, data === undefined || data === null ? 'false' : 'true');
  } else if (kind === 'keyed') {
    span.setAttribute(MEMCACHE_TAGS.hit, 'true');
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** memcache-client's `server` option: "host:port", `{ server }` or `{ servers: [{ server }] }`. */
function serverOf(client: MemcacheClientLike): string | undefined {
  const server = client.options?.server as unknown;
  if (typeof server === 'string') return server;
  if (server && typeof server === 'object') {
    const single = (server as { server?: unknown }).server;
    if (typeof single === 'string') return single;
    const first = (server as { servers?: Array<{ server?: unknown }> }).servers?.[0]?.server;
    if (typeof first === 'string') return first;
  }
  return undefined;
}

function remoteAttributes(server: string | undefined): Attributes {
  const out: Attributes = {};
  if (!server) return out;
  const colon = server.lastIndexOf(':');
  const host = (colon > 0 ? server.slice(0, colon) : server).replace(/^\[|\]$/g, '');
  const port = colon > 0 ? Number(server.slice(colon + 1)) : 11211;
  const ip = parseIp(host);
  if (ip.ipv4 || ip.ipv6) out['network.peer.address'] = host;
  if (Number.isInteger(port) && port > 0 && port <= 65535) out['network.peer.port'] = port;
  return out;
}
