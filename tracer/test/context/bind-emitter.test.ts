import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { AsyncLocalContextManager } from '../../src/context/async-local-context-manager.js';
import { addUnboundListener, bindEmitter, bindHttpListenersOnAdd } from '../../src/context/bind-emitter.js';

const KEY = createContextKey('test');
const manager = new AsyncLocalContextManager();
const ctx = (value: string) => ROOT_CONTEXT.setValue(KEY, value);
const current = () => manager.active().getValue(KEY);
const exchange = () => {
  const req = new IncomingMessage(new Socket());
  return { req, res: new ServerResponse(req) };
};

afterEach(() => bindHttpListenersOnAdd(undefined));

describe('node:http listeners bound when added (bindHttpListenersOnAdd)', () => {
  it('runs a listener in the context active when it was added, and removal by the original still works', () => {
    bindHttpListenersOnAdd(manager.listenerContext);
    const { req, res } = exchange();
    const seen: unknown[] = [];
    const onX = () => seen.push(`x:${current()}`);
    const onY = () => seen.push(`y:${current()}`);
    const onZ = () => seen.push(`z:${current()}`);
    manager.with(ctx('request'), () => {
      res.on('x', onX);
      res.once('y', onY);
      req.prependListener('x', onX);
    });
    res.on('z', onZ); // outside any context: left as it is
    manager.with(ctx('emit-site'), () => {
      res.emit('x');
      req.emit('x');
      res.emit('y');
      res.emit('y');
      res.emit('z');
    });
    expect(seen).toEqual(['x:request', 'x:request', 'y:request', 'z:emit-site']);
    expect(res.listeners('x')).toEqual([onX]);
    expect(res.listenerCount('y')).toBe(0);
    res.removeListener('x', onX);
    req.off('x', onX);
    expect(res.listenerCount('x') + req.listenerCount('x')).toBe(0);
    manager.with(ctx('request'), () => res.once('w', onX));
    res.off('w', onX);
    expect(res.listenerCount('w')).toBe(0);
  });

  it('gives way to a context bound explicitly, and stops when turned off', () => {
    bindHttpListenersOnAdd(manager.listenerContext);
    const { req, res } = exchange();
    const seen: unknown[] = [];
    bindEmitter(ctx('bound'), req, (c, fn, thisArg, args) => manager.with(c, () => fn.apply(thisArg, args)));
    manager.with(ctx('request'), () => req.on('x', () => seen.push(current())));
    bindHttpListenersOnAdd(undefined);
    manager.with(ctx('request'), () => res.on('x', () => seen.push(current())));
    manager.with(ctx('emit-site'), () => {
      req.emit('x');
      res.emit('x');
    });
    expect(seen).toEqual(['bound', 'emit-site']);
  });

  it('adds a listener of ours unwrapped, even in a context, unless the object was bound explicitly', () => {
    bindHttpListenersOnAdd(manager.listenerContext);
    const { req, res } = exchange();
    const seen: unknown[] = [];
    const onClose = () => seen.push(`res:${current()}`);
    const onEnd = () => seen.push(`req:${current()}`);
    bindEmitter(ctx('bound'), req, (c, fn, thisArg, args) => manager.with(c, () => fn.apply(thisArg, args)));
    manager.with(ctx('request'), () => {
      addUnboundListener(res, 'close', onClose);
      addUnboundListener(req, 'end', onEnd);
    });
    manager.with(ctx('emit-site'), () => {
      res.emit('close');
      req.emit('end');
    });
    expect(seen).toEqual(['res:emit-site', 'req:bound']);
    expect(res.rawListeners('close')).toContain(onClose);
  });
});
