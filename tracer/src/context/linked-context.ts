import type { Context } from '@opentelemetry/api';

const DELETED = Symbol('pintrace.context.deleted');

/**
 * An OTel Context as an immutable linked list: `setValue` is one small object, where the API's
 * BaseContext copies a Map and makes three closures. A request's context is built from a few
 * `setValue`s (remote parent, span) and read by key a few times, so the chain stays short.
 */
export class LinkedContext implements Context {
  constructor(
    private readonly parent: LinkedContext | undefined,
    private readonly key: symbol | undefined,
    private readonly value: unknown,
  ) {}

  getValue(key: symbol): unknown {
    for (let c: LinkedContext | undefined = this; c !== undefined; c = c.parent) {
      if (c.key === key) return c.value === DELETED ? undefined : c.value;
    }
    return undefined;
  }

  setValue(key: symbol, value: unknown): Context {
    return new LinkedContext(this, key, value);
  }

  deleteValue(key: symbol): Context {
    return this.getValue(key) === undefined ? this : new LinkedContext(this, key, DELETED);
  }
}

/** The empty context of our own (ROOT_CONTEXT's equivalent): contexts made from it stay linked. */
export const ROOT = new LinkedContext(undefined, undefined, undefined);
