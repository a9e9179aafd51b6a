import { createContextKey, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../src/context/linked-context.js';

describe('LinkedContext', () => {
  it('answers like the API BaseContext under random set/delete sequences', () => {
    const keys = [createContextKey('a'), createContextKey('b'), createContextKey('c')];
    let seed = 7;
    const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let run = 0; run < 200; run++) {
      let ours: Context = ROOT;
      let theirs: Context = ROOT_CONTEXT;
      const history: Array<[Context, Context]> = [];
      for (let step = 0; step < 12; step++) {
        const key = keys[next(3)];
        if (next(3) === 0) {
          ours = ours.deleteValue(key);
          theirs = theirs.deleteValue(key);
        } else {
          const value = next(2) === 0 ? undefined : { step };
          ours = ours.setValue(key, value);
          theirs = theirs.setValue(key, value);
        }
        history.push([ours, theirs]);
        // earlier contexts are immutable: they still answer as they did
        for (const [o, t] of history) for (const k of keys) expect(o.getValue(k)).toBe(t.getValue(k));
      }
    }
  });
});
