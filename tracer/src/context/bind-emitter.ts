import type { EventEmitter } from 'node:events';
import { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
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
 * This runs for every traced request (twice), so it must not slow Node's own HTTP code down:
 * - node:http's IncomingMessage, ServerResponse and ClientRequest get the five methods once, on
 *   their prototypes (inert for objects that were never bound); binding one of them only sets one
 *   symbol property, so every request object keeps one shape and Node's internals stay fast;
 * - any other emitter gets the five methods as plain own properties (as OpenTelemetry's context
 *   managers do; they show up in `Object.keys(emitter)`).
 * The wrapper table is only created when a listener is added.
 */

type Listener = (...args: unknown[]) => unknown;
type Wrapper = Listener & { listener?: unknown; event?: string | symbol };
type Method = (this: EventEmitter, event: string | symbol, listener: Listener) => EventEmitter;
export type RunInContext = (ctx: Context, fn: Listener, thisArg: unknown, args: unknown[]) => unknown;

type MethodName = 'on' | 'addListener' | 'prependListener' | 'removeListener' | 'off';
type Originals = Record<MethodName, Method>;

interface BoundState {
  context: Context;
  readonly run: RunInContext;
  /** Listener → its wrapper (the last one made; `event` tells which event it was added for). */
  wrappers: WeakMap<Listener, Wrapper> | undefined;
  /** The emitter's own methods before patching (own-property mode only). */
  readonly originals: Originals | undefined;
}

const METHODS: readonly MethodName[] = ['on', 'addListener', 'prependListener', 'removeListener', 'off'];
/**
 * The node:http prototypes that get the methods once, and whether they have them yet. Found by
 * identity: bindEmitter runs twice per traced request, and a Set and a WeakSet lookup were a
 * tenth of an unsampled request's instrumentation.
 */
const SHARED_PROTOTYPES: readonly object[] = [IncomingMessage.prototype, ServerResponse.prototype, ClientRequest.prototype];
const sharedPatched = [false, false, false];
/**
 * The `on` each prototype got: an object whose `on` is another (an own property someone else put
 * there) is bound in own-property mode. Compared by a property load, which V8 caches; an
 * `Object.hasOwn(target, 'on')` per binding was a tenth of an unsampled request's
 * instrumentation.
 */
const sharedOn: Array<Method | undefined> = [undefined, undefined, undefined];

function sharedIndex(proto: object | null): number {
  return proto === SHARED_PROTOTYPES[0] ? 0 : proto === SHARED_PROTOTYPES[1] ? 1 : proto === SHARED_PROTOTYPES[2] ? 2 : -1;
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
  } as Wrapper;
  // Node's removeListener also matches `.listener`, so removal by the original function works;
  // the table is for `once`, whose own wrapper removes itself by that wrapper
  wrapper.listener = (listener as Wrapper).listener ?? listener;
  wrapper.event = event;
  (state.wrappers ??= new WeakMap()).set(listener, wrapper);
  return wrapper;
}

function adder(name: 'on' | 'addListener' | 'prependListener', protoOriginal?: Method): Method {
  return function (this: EventEmitter, event: string | symbol, listener: Listener): EventEmitter {
    const state = (this as Bindable)[STATE];
    const original = protoOriginal ?? state?.originals?.[name];
    if (!original) return this;
    if (state === undefined || typeof listener !== 'function' || isNodeHousekeeping(event, listener)) {
      return original.call(this, event, listener);
    }
    return original.call(this, event, wrap(state, event, listener));
  };
}

/**
 * node:http adds one listener of its own to every request after the handler ran: `clearIncoming`
 * on 'end', which only unlinks the request from its parser. It needs no trace context, and
 * wrapping it cost a closure, a listener table and a context switch per request.
 */
function isNodeHousekeeping(event: string | symbol, listener: Listener): boolean {
  if (event !== 'end') return false;
  if (listener === clearIncoming) return true;
  // found by name once, then by identity: reading a function's name is a slow property load
  if (clearIncoming !== undefined || listener.name !== 'clearIncoming') return false;
  clearIncoming = listener;
  return true;
}

let clearIncoming: Listener | undefined;

function remover(name: 'removeListener' | 'off', protoOriginal?: Method): Method {
  return function (this: EventEmitter, event: string | symbol, listener: Listener): EventEmitter {
    const state = (this as Bindable)[STATE];
    const original = protoOriginal ?? state?.originals?.[name];
    if (!original) return this;
    const wrapper = state?.wrappers?.get(listener);
    return original.call(this, event, wrapper !== undefined && wrapper.event === event ? wrapper : listener);
  };
}

function makeMethods(originals?: Originals): Record<MethodName, Method> {
  return {
    on: adder('on', originals?.on),
    addListener: adder('addListener', originals?.addListener),
    prependListener: adder('prependListener', originals?.prependListener),
    removeListener: remover('removeListener', originals?.removeListener),
    off: remover('off', originals?.off),
  };
}

/** Own-property mode: shared functions that find the originals in the emitter's state. */
const patched = makeMethods();

function originalsOf(target: object): Originals | undefined {
  const t = target as Record<MethodName, unknown>;
  for (const name of METHODS) if (typeof t[name] !== 'function') return undefined;
  return { on: t.on, addListener: t.addListener, prependListener: t.prependListener, removeListener: t.removeListener, off: t.off } as Originals;
}

/** Installs the methods on a node:http prototype (once); inert on objects without a bound state. */
function patchPrototype(index: number): boolean {
  const proto = SHARED_PROTOTYPES[index];
  const originals = originalsOf(proto);
  if (!originals) return false;
  const methods = makeMethods(originals);
  for (const name of METHODS) {
    Object.defineProperty(proto, name, { value: methods[name], writable: true, configurable: true, enumerable: false });
  }
  sharedPatched[index] = true;
  sharedOn[index] = methods.on;
  return true;
}

/** True when `emitter` was bound to a context by {@link bindEmitter}. */
export function isBound(emitter: object): boolean {
  return (emitter as Bindable)[STATE] !== undefined;
}

export function bindEmitter<T extends EventEmitter>(ctx: Context, emitter: T, run: RunInContext): T {
  const target = emitter as Bindable;
  const existing = target[STATE];
  if (existing) {
    existing.context = ctx;
    return emitter;
  }
  // a node:http object whose `on` is the one its prototype got (or any object inheriting it):
  // found by one property load, where Object.getPrototypeOf called into the runtime
  const on = target.on;
  if (on !== undefined && (on === sharedOn[0] || on === sharedOn[1] || on === sharedOn[2])) {
    target[STATE] = { context: ctx, run, wrappers: undefined, originals: undefined };
    return emitter;
  }
  const shared = sharedIndex(Object.getPrototypeOf(target) as object | null);
  if (shared >= 0 && (sharedPatched[shared] || patchPrototype(shared)) && target.on === sharedOn[shared]) {
    target[STATE] = { context: ctx, run, wrappers: undefined, originals: undefined };
    return emitter;
  }
  const originals = originalsOf(target);
  if (!originals) return emitter;
  target[STATE] = { context: ctx, run, wrappers: undefined, originals };
  target.on = patched.on as T['on'];
  target.addListener = patched.addListener as T['addListener'];
  target.prependListener = patched.prependListener as T['prependListener'];
  target.removeListener = patched.removeListener as T['removeListener'];
  target.off = patched.off as T['off'];
  return emitter;
}
