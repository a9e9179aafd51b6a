import type { EventEmitter } from 'node:events';
import type { Context } from '@opentelemetry/api';

/**
 * Makes listeners added to an emitter run in a given context, whatever context the emitter fires
 * in. Node fires socket, request and response events in the async context of the socket; on a
 * keep-alive connection that is the context of the request that opened it, so without this a
 * listener would see (and leak into) another request's trace.
 *
 * The emitter's `on`/`addListener`/`prependListener` wrap each listener (`once` and
 * `prependOnceListener` go through those), and `removeListener`/`off` find the wrapper again.
 * Each wrapper carries `.listener` = the original, so `listeners()` and removal by the original
 * function keep working. Binding again only changes the context used for later listeners.
 *
 * This runs for every traced request (twice), so it is cheap: the five methods are shared
 * functions assigned as plain properties (as OpenTelemetry's context managers do; they show up
 * in `Object.keys(emitter)`), the per-emitter state is one object under a symbol, and the
 * wrapper table is only created when a listener is added.
 */

type Listener = (...args: unknown[]) => unknown;
type Method = (this: EventEmitter, event: string | symbol, listener: Listener) => EventEmitter;
export type RunInContext = (ctx: Context, fn: Listener, thisArg: unknown, args: unknown[]) => unknown;

interface BoundState {
  context: Context;
  readonly run: RunInContext;
  wrappers: Map<string | symbol, WeakMap<Listener, Listener>> | undefined;
  readonly on: Method;
  readonly addListener: Method;
  readonly prependListener: Method;
  readonly removeListener: Method;
  readonly off: Method;
}

const STATE = Symbol('pintrace.boundContext');

type Bindable = EventEmitter & { [STATE]?: BoundState };

export function isEventEmitter(value: unknown): value is EventEmitter {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as EventEmitter).on === 'function' &&
    typeof (value as EventEmitter).removeListener === 'function' &&
    typeof (value as EventEmitter).emit === 'function'
  );
}

function wrap(state: BoundState, event: string | symbol, listener: Listener): Listener {
  const boundContext = state.context;
  const run = state.run;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    return run(boundContext, listener, this, args);
  } as Listener & { listener?: unknown };
  wrapper.listener = (listener as Listener & { listener?: unknown }).listener ?? listener;
  const wrappers = (state.wrappers ??= new Map());
  let byListener = wrappers.get(event);
  if (!byListener) {
    byListener = new WeakMap();
    wrappers.set(event, byListener);
  }
  byListener.set(listener, wrapper);
  return wrapper;
}

function adder(name: 'on' | 'addListener' | 'prependListener'): Method {
  return function (this: EventEmitter, event: string | symbol, listener: Listener): EventEmitter {
    const state = (this as Bindable)[STATE];
    if (!state) return this;
    if (typeof listener !== 'function') return state[name].call(this, event, listener);
    return state[name].call(this, event, wrap(state, event, listener));
  };
}

function remover(name: 'removeListener' | 'off'): Method {
  return function (this: EventEmitter, event: string | symbol, listener: Listener): EventEmitter {
    const state = (this as Bindable)[STATE];
    if (!state) return this;
    const wrapper = state.wrappers?.get(event)?.get(listener);
    return state[name].call(this, event, wrapper ?? listener);
  };
}

const patched = {
  on: adder('on'),
  addListener: adder('addListener'),
  prependListener: adder('prependListener'),
  removeListener: remover('removeListener'),
  off: remover('off'),
};

export function bindEmitter<T extends EventEmitter>(ctx: Context, emitter: T, run: RunInContext): T {
  const target = emitter as Bindable;
  const existing = target[STATE];
  if (existing) {
    existing.context = ctx;
    return emitter;
  }
  if (typeof target.addListener !== 'function' || typeof target.prependListener !== 'function' || typeof target.off !== 'function') {
    return emitter;
  }
  target[STATE] = {
    context: ctx,
    run,
    wrappers: undefined,
    on: target.on,
    addListener: target.addListener,
    prependListener: target.prependListener,
    removeListener: target.removeListener,
    off: target.off,
  };
  target.on = patched.on as T['on'];
  target.addListener = patched.addListener as T['addListener'];
  target.prependListener = patched.prependListener as T['prependListener'];
  target.removeListener = patched.removeListener as T['removeListener'];
  target.off = patched.off as T['off'];
  return emitter;
}
