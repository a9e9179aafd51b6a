import type { EventEmitter } from 'node:events';
import { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from '@opentelemetry/api';

/**
 * Makes listeners added to an emitter run in a given context, whatever context the emitter fires
 * in. Node fires socket, request and response events in the async context of the socket; on a
 * keep-alive connection that is the context of the request that opened it, so without this a
 * listener would see (and leak into) another request's trace.
 *
 * Two ways, one set of methods:
 * - {@link bindEmitter} (the API's `context.bind(ctx, emitter)`): every listener added later runs
 *   in `ctx`. Binding again only changes the context used for later listeners.
 * - {@link bindHttpListenersOnAdd}: a listener added to any node:http request, response or client
 *   request runs in the context that was active when it was added, as if the object had been bound
 *   to it. A traced server so needs no per-request binding: a handler's listeners are added in its
 *   request's context. Binding per request stored a property on every request and response, which
 *   kept Node's own constructors of them from being inlined into its parser callback (about 1,300
 *   CPU instructions per request, a quarter of an unsampled request's instrumentation).
 *
 * The emitter's `on`/`addListener`/`prependListener` wrap each listener (`once` and
 * `prependOnceListener` go through those), and `removeListener`/`off` find the wrapper again.
 * Each wrapper carries `.listener` = the original, so `listeners()` and removal by the original
 * function keep working; a `once` wrapper, which removes itself by its own identity, is found in a
 * table.
 * - node:http's IncomingMessage, ServerResponse and ClientRequest get the five methods once, on
 *   their prototypes (they only wrap when a context is bound or active), so every request object
 *   keeps one shape and Node's internals stay fast;
 * - any other emitter gets the five methods as plain own properties (as OpenTelemetry's context
 *   managers do; they show up in `Object.keys(emitter)`).
 */

type Listener = (...args: unknown[]) => unknown;
type Wrapper = Listener & { listener?: unknown };
type Method = (this: EventEmitter, event: string | symbol, listener: Listener) => EventEmitter;
export type RunInContext = (ctx: Context, fn: Listener, thisArg: unknown, args: unknown[]) => unknown;

type MethodName = 'on' | 'addListener' | 'prependListener' | 'removeListener' | 'off';
type Originals = Record<MethodName, Method>;

interface BoundState {
  context: Context;
  readonly run: RunInContext;
  /** The emitter's own methods before patching (own-property mode only). */
  readonly originals: Originals | undefined;
}

/** Where node:http objects without a bound context take one from (see bindHttpListenersOnAdd). */
export interface ActiveContextSource {
  /** The active context; undefined outside any, where nothing is wrapped. */
  active(): Context | undefined;
  readonly run: RunInContext;
}

let activeSource: ActiveContextSource | undefined;

/**
 * A `once` wrapper (it has `.listener`) → the wrapper we made for it: it removes itself by its
 * own identity, which Node's removeListener does not look for in `.listener`.
 */
const onceWrappers = new WeakMap<Listener, Wrapper>();

const METHODS: readonly MethodName[] = ['on', 'addListener', 'prependListener', 'removeListener', 'off'];
/**
 * The node:http prototypes that get the methods once, and whether they have them yet. Found by
 * identity: bindEmitter runs twice per traced outgoing request, and a Set and a WeakSet lookup
 * were a tenth of an unsampled request's instrumentation when it ran per incoming one too.
 */
const SHARED_PROTOTYPES: readonly object[] = [IncomingMessage.prototype, ServerResponse.prototype, ClientRequest.prototype];
const sharedPatched = [false, false, false];
/**
 * The `on` each prototype got: an object whose `on` is another (an own property someone else put
 * there) is bound in own-property mode. Compared by a property load, which V8 caches; an
 * `Object.hasOwn(target, 'on')` per binding cost as much as that.
 */
const sharedOn: Array<Method | undefined> = [undefined, undefined, undefined];
/** The `on` each prototype had before (see addUnboundListener). */
const sharedOriginalOn: Array<Method | undefined> = [undefined, undefined, undefined];

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

function wrap(boundContext: Context, run: RunInContext, listener: Listener): Listener {
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    return run(boundContext, listener, this, args);
  } as Wrapper;
  // Node's removeListener also matches `.listener`, so removal by the original function works
  const inner = (listener as Wrapper).listener;
  wrapper.listener = inner ?? listener;
  if (inner !== undefined) onceWrappers.set(listener, wrapper);
  return wrapper;
}

function adder(name: 'on' | 'addListener' | 'prependListener', protoOriginal?: Method): Method {
  return function (this: EventEmitter, event: string | symbol, listener: Listener): EventEmitter {
    const state = (this as Bindable)[STATE];
    const original = protoOriginal ?? state?.originals?.[name];
    if (!original) return this;
    if (typeof listener !== 'function' || isNodeHousekeeping(event, listener)) return original.call(this, event, listener);
    if (state !== undefined) return original.call(this, event, wrap(state.context, state.run, listener));
    // a node:http object nobody bound: the context active now, if any
    const source = protoOriginal !== undefined ? activeSource : undefined;
    const ctx = source?.active();
    return original.call(this, event, ctx === undefined ? listener : wrap(ctx, (source as ActiveContextSource).run, listener));
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
    const original = protoOriginal ?? (this as Bindable)[STATE]?.originals?.[name];
    if (!original) return this;
    const wrapper = typeof listener === 'function' && (listener as Wrapper).listener !== undefined ? onceWrappers.get(listener) : undefined;
    return original.call(this, event, wrapper ?? listener);
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
  sharedOriginalOn[index] = originals.on;
  return true;
}

/**
 * `emitter.on(event, listener)` for a listener of ours that needs no context (it runs in whatever
 * context the emitter fires): on a node:http object with the patched prototype's `on`, straight
 * to the `on` it replaced, without looking for a bound or active context to wrap it in.
 */
export function addUnboundListener(emitter: EventEmitter, event: string, listener: Listener): void {
  const on = emitter.on;
  const original = on === sharedOn[1] ? sharedOriginalOn[1] : on === sharedOn[0] ? sharedOriginalOn[0] : on === sharedOn[2] ? sharedOriginalOn[2] : undefined;
  if (original !== undefined && (emitter as Bindable)[STATE] === undefined) original.call(emitter, event, listener);
  else emitter.on(event, listener);
}

/**
 * From now on (until called with undefined), a listener added to a node:http IncomingMessage,
 * ServerResponse or ClientRequest not bound by {@link bindEmitter} runs in the context `source`
 * says was active when it was added.
 */
export function bindHttpListenersOnAdd(source: ActiveContextSource | undefined): void {
  activeSource = source;
  if (source !== undefined) for (let i = 0; i < SHARED_PROTOTYPES.length; i++) if (!sharedPatched[i]) patchPrototype(i);
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
    target[STATE] = { context: ctx, run, originals: undefined };
    return emitter;
  }
  const shared = sharedIndex(Object.getPrototypeOf(target) as object | null);
  if (shared >= 0 && (sharedPatched[shared] || patchPrototype(shared)) && target.on === sharedOn[shared]) {
    target[STATE] = { context: ctx, run, originals: undefined };
    return emitter;
  }
  const originals = originalsOf(target);
  if (!originals) return emitter;
  target[STATE] = { context: ctx, run, originals };
  target.on = patched.on as T['on'];
  target.addListener = patched.addListener as T['addListener'];
  target.prependListener = patched.prependListener as T['prependListener'];
  target.removeListener = patched.removeListener as T['removeListener'];
  target.off = patched.off as T['off'];
  return emitter;
}
