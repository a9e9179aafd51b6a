import { EventEmitter } from 'node:events';
import { createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { AsyncLocalContextManager } from '@pintrace/tracer';

const KEY = createContextKey('test');
const manager = new AsyncLocalContextManager().enable();
const ctx = (value: string) => ROOT_CONTEXT.setValue(KEY, value);
const current = () => manager.active().getValue(KEY);

describe('AsyncLocalContextManager', () => {
  it('is ROOT outside with()', () => {
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('attach (API 1.10): active until dispose, which restores the context before; nested, and inside with()', async () => {
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        const outer = manager.attach(ctx('attached'));
        expect(current()).toBe('attached');
        const inner = manager.attach(ctx('inner'));
        expect(current()).toBe('inner');
        inner.dispose();
        inner.dispose(); // twice: no effect
        expect(current()).toBe('attached');
        outer.dispose();
        expect(manager.active()).toBe(ROOT_CONTEXT);
        manager.with(ctx('w'), () => {
          const token = manager.attach(ctx('in-with'));
          expect(current()).toBe('in-with');
          token.dispose();
          expect(current()).toBe('w');
        });
        resolve();
      }),
    );
  });

  it('follows promises, timers, setImmediate and nextTick', async () => {
    await manager.with(ctx('a'), async () => {
      await Promise.resolve();
      expect(current()).toBe('a');
      await new Promise((r) => setTimeout(r, 2));
      expect(current()).toBe('a');
      await new Promise((r) => setImmediate(r));
      expect(current()).toBe('a');
      await new Promise<void>((r) =>
        process.nextTick(() => {
          expect(current()).toBe('a');
          r();
        }),
      );
    });
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('keeps concurrent tasks apart', async () => {
    const seen: string[] = [];
    const task = (name: string, delay: number) =>
      manager.with(ctx(name), async () => {
        await new Promise((r) => setTimeout(r, delay));
        seen.push(`${name}:${String(current())}`);
      });
    await Promise.all([task('a', 5), task('b', 1), task('c', 3)]);
    expect(seen.sort()).toEqual(['a:a', 'b:b', 'c:c']);
  });

  it('passes this and arguments through with()', () => {
    const self = { n: 2 };
    const result = manager.with(
      ctx('x'),
      function (this: typeof self, m: number) {
        return this.n * m;
      },
      self,
      21,
    );
    expect(result).toBe(42);
  });

  it('bind() fixes the context of a function', () => {
    const bound = manager.with(ctx('bound'), () => manager.bind(manager.active(), () => current()));
    expect(manager.with(ctx('other'), bound)).toBe('bound');
  });

  it('bind() fixes the context of emitter listeners, and removal still works', () => {
    const emitter = new EventEmitter();
    manager.bind(ctx('emitter'), emitter);
    const seen: unknown[] = [];
    const listener = () => seen.push(current());
    emitter.on('x', listener);
    emitter.once('y', listener);
    manager.with(ctx('emit-site'), () => {
      emitter.emit('x');
      emitter.emit('y');
      emitter.emit('y');
    });
    expect(seen).toEqual(['emitter', 'emitter']);
    expect(emitter.listeners('x')).toEqual([listener]);
    emitter.removeListener('x', listener);
    expect(emitter.listenerCount('x')).toBe(0);
    emitter.once('z', listener);
    emitter.off('z', listener);
    expect(emitter.listenerCount('z')).toBe(0);
  });
});
