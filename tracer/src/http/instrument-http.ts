import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import { wrapRequest, getFrom, type RequestFunction } from './http-client.js';
import { traceIncoming } from './http-server.js';
import type { HttpInstrumentationOptions, HttpTracing } from './http-tracing.js';

const PATCHED = Symbol.for('pintrace.http.patched');

type Patchable = { [PATCHED]?: true };
type Emit = (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;

/**
 * Traces every HTTP server and client of the process: patches `http.request`, `http.get`,
 * `https.request`, `https.get` and the `emit` of `http.Server` and `https.Server` (so servers
 * created before or after the call are covered), then refreshes the ESM named exports of
 * `node:http`/`node:https`, so `import { request } from 'node:http'` sees the patch too.
 * Returns a function that undoes all of it. A second call while patched changes nothing and
 * returns a no-op undo.
 */
export function instrumentHttp(tracing: HttpTracing, options: HttpInstrumentationOptions = {}): () => void {
  if ((http as unknown as Patchable)[PATCHED]) return () => undefined;
  const undo: Array<() => void> = [];

  for (const mod of [http, https] as const) {
    const originalRequest = mod.request;
    const originalGet = mod.get;
    const request = wrapRequest(tracing, originalRequest as RequestFunction, options);
    mod.request = request as typeof mod.request;
    mod.get = getFrom(request) as typeof mod.get;
    undo.push(() => {
      mod.request = originalRequest;
      mod.get = originalGet;
    });
  }

  for (const Server of [http.Server, https.Server] as const) {
    const proto = Server.prototype as unknown as { emit: Emit };
    const hadOwn = Object.hasOwn(proto, 'emit');
    const originalEmit = proto.emit;
    // named parameters, not a rest array and a spread call: this runs for every event of every
    // server, and twice per request otherwise
    proto.emit = function (this: http.Server, event: string | symbol, req?: unknown, res?: unknown): boolean {
      // biome-ignore lint/complexity/noArguments: a rest parameter would allocate an array on every emit of every server
      if (event !== 'request' || arguments.length !== 3) return Reflect.apply(originalEmit, this, arguments) as boolean;
      return traceIncoming(tracing, req as http.IncomingMessage, res as http.ServerResponse, () => originalEmit.call(this, event, req, res), options);
    };
    undo.push(() => {
      if (hadOwn) proto.emit = originalEmit;
      else delete (proto as { emit?: Emit }).emit;
    });
  }

  (http as unknown as Patchable)[PATCHED] = true;
  syncBuiltinESMExports();
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    for (const step of undo.reverse()) step();
    delete (http as unknown as Patchable)[PATCHED];
    syncBuiltinESMExports();
  };
}
