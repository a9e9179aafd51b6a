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
 */

type Listener = (...args: unknown[]) => unknown;
type RunInContext = (ctx: Context, fn: Listener, thisArg: unknown, args: unknown[]) => unknown;

interface BoundState {
  context: Context;
  wrappers: Map<string | symbol, WeakMap<Listener, Listener>>;
}

const STATE = Symbol('pintrace.boundContext');
const ADDERS = ['on', 'addListener', 'prependListener'] as const;
const REMOVERS = ['removeListener', 'off'] as const;

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

export function bindEmitter<T extends EventEmitter>(ctx: Context, emitter: T, run: RunInContext): T {
  const target = emitter as Bindable;
  const existing = target[STATE];
  if (existing) {
    existing.context = ctx;
    return emitter;
  }
  const state: BoundState = { context: ctx, wrappers: new Map() };
  Object.defineProperty(target, STATE, { value: state, enumerable: false, configurable: true });

  for (const name of ADDERS) {
    const original = target[name] as (event: string | symbol, listener: Listener) => T;
    if (typeof original !== 'function') continue;
    const patched = function (this: T, event: string | symbol, listener: Listener): T {
      if (typeof listener !== 'function') return original.call(this, event, listener);
      let byListener = state.wrappers.get(event);
      if (!byListener) {
        byListener = new WeakMap();
        state.wrappers.set(event, byListener);
      }
      const boundContext = state.context;
      const wrapper = function (this: unknown, ...args: unknown[]): unknown {
        return run(boundContext, listener, this, args);
      } as Listener & { listener?: unknown };
      wrapper.listener = (listener as Listener & { listener?: unknown }).listener ?? listener;
      byListener.set(listener, wrapper);
      return original.call(this, event, wrapper);
    };
    Object.defineProperty(target, name, { value: patched, writable: true, configurable: true, enumerable: false });
  }
  for (const name of REMOVERS) {
    const original = target[name] as (event: string | symbol, listener: Listener) => T;
    if (typeof original !== 'function') continue;
    const patched = function (this: T, event: string | symbol, listener: Listener): T {
      const wrapper = state.wrappers.get(event)?.get(listener);
      return original.call(this, event, wrapper ?? listener);
    };
    Object.defineProperty(target, name, { value: patched, writable: true, configurable: true, enumerable: false });
  }
  return emitter;
}
