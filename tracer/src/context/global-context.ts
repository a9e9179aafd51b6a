import type { EventEmitter } from 'node:events';
import { context, type Context } from '@opentelemetry/api';
import { AsyncLocalContextManager } from './async-local-context-manager.js';
import { bindHttpListenersOnAdd } from './bind-emitter.js';

/**
 * Every tracing setup in a process needs one global context manager, and two setups (two services
 * in one process, as in tests and the demo) must share it. The first acquire registers ours
 * (unless the app registered its own); the last release removes it.
 */
let users = 0;
let registered = false;
let ours: AsyncLocalContextManager | undefined;

/**
 * The active context: straight from our manager when it is the registered global (the API's
 * `context.active()` looks the global up and checks its version on every call, a measurable
 * part of an unsampled span), else through the API.
 */
export function activeContext(): Context {
  return ours !== undefined ? ours.active() : context.active();
}

/** context.with(ctx, fn), minus the API's lookups when ours is the global manager. */
export function withContext<R>(ctx: Context, fn: () => R): R {
  return ours !== undefined ? ours.run(ctx, fn) : context.with(ctx, fn);
}

/**
 * Makes the listeners of a request and its response run in `ctx`. With our manager, nothing is
 * done per request: node:http's listeners run in the context active when they were added
 * (bindHttpListenersOnAdd), and the request's handler adds them in `ctx`. Another manager binds
 * both through the API.
 */
export function bindHttpExchange(ctx: Context, req: EventEmitter, res: EventEmitter): void {
  if (ours !== undefined) return;
  context.bind(ctx, req);
  context.bind(ctx, res);
}

export function acquireGlobalContextManager(): void {
  users++;
  if (users > 1) return;
  const manager = new AsyncLocalContextManager();
  // false when the app already registered a context manager: then we use the app's.
  registered = context.setGlobalContextManager(manager);
  ours = registered ? manager : undefined;
  if (ours !== undefined) bindHttpListenersOnAdd(ours.listenerContext);
}

export function releaseGlobalContextManager(): void {
  if (users === 0) return;
  users--;
  if (users > 0 || !registered) return;
  registered = false;
  ours = undefined;
  bindHttpListenersOnAdd(undefined);
  context.disable();
}
