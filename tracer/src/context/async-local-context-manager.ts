import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';
import { bindEmitter, isEventEmitter, type ActiveContextSource, type RunInContext } from './bind-emitter.js';

/** What `attach` returns: API 1.10's ContextManagementToken. */
export interface ContextToken {
  dispose(): void;
}

/**
 * The OTel ContextManager on AsyncLocalStorage: the active context follows promises, timers and
 * callbacks. `bind` also accepts event emitters (see bind-emitter.ts).
 */
export class AsyncLocalContextManager implements ContextManager {
  private storage = new AsyncLocalStorage<Context>();
  /** One function for every bound emitter and every listener wrapped for a context. */
  private readonly runInContext: RunInContext = (ctx, fn, thisArg, args) => this.storage.run(ctx, () => fn.apply(thisArg, args));
  /** What node:http's listeners are bound to when added (see bindHttpListenersOnAdd). */
  readonly listenerContext: ActiveContextSource = { active: () => this.storage.getStore(), run: this.runInContext };

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const callback = thisArg === undefined || thisArg === null ? fn : fn.bind(thisArg);
    return this.storage.run(context, callback, ...args);
  }

  /** `with` for a function of no arguments and no `this`: no argument array, no bound copy. */
  run<R>(context: Context, fn: () => R): R {
    return this.storage.run(context, fn);
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target === 'function') return this.bindFunction(context, target as (...args: unknown[]) => unknown) as T;
    if (isEventEmitter(target)) return this.bindEmitter(context, target);
    return target;
  }

  bindEmitter<T extends EventEmitter>(context: Context, emitter: T): T {
    return bindEmitter(context, emitter, this.runInContext);
  }

  /**
   * API 1.10's `context.attach` (experimental): makes `context` active in the current execution
   * until `dispose()` restores the one before, for callback boundaries `with` cannot wrap. Without
   * it, a 1.10 caller's attach is a no-op with a warning.
   */
  attach(context: Context): ContextToken {
    const storage = this.storage;
    const previous = storage.getStore();
    storage.enterWith(context);
    let disposed = false;
    return {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        // undefined (no store) reads as ROOT_CONTEXT in active()
        storage.enterWith(previous as Context);
      },
    };
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    this.storage = new AsyncLocalStorage<Context>();
    return this;
  }

  private bindFunction(context: Context, target: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    const run = (thisArg: unknown, args: unknown[]): unknown => this.storage.run(context, () => target.apply(thisArg, args));
    const bound = function (this: unknown, ...args: unknown[]): unknown {
      return run(this, args);
    };
    Object.defineProperty(bound, 'length', { value: target.length, configurable: true });
    return bound;
  }
}
