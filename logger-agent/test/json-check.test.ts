import { describe, expect, it } from 'vitest';
import { isJsonText } from '../src/json-check.js';

const parses = (s: string) => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};

describe('isJsonText agrees with JSON.parse', () => {
  const cases = [
    '{}', '[]', '{"a":1}', '{"a":[1,2,{"b":null}],"c":true,"d":false}', ' { "a" : "x" } ', '{"a":-0.5e+10}', '{"a":1E3}',
    '{"s":"\\u00e9\\n\\t\\"\\\\\\/"}', '"x"', '0', '-1', 'true', 'null', '[[[[]]]]', '{"a":{"b":{"c":{}}}}',
    '{', '}', '{"a"}', '{"a":}', '{"a":1,}', '[1,]', '[,1]', '{"a":1 "b":2}', '{a:1}', "{'a':1}", '{"a":01}', '{"a":1.}', '{"a":.5}',
    '{"a":-}', '{"a":1e}', '{"a":tru}', '{"a":nul}', '{"a":"\\x"}', '{"a":"\\u12"}', '{"a":"\u0001"}', '{"a":"unterminated}', '{"a":1}}',
    '{"a":1} x', '', '   ', '[1 2]', '{"a":NaN}', '{"a":Infinity}', '{"a":+1}', '{"a":"\t"}', '["\u2028"]', '{"a":"\ud800"}', '[' .repeat(100_000),
  ];
  it.each(cases.map((c) => [c.length > 40 ? `${c.slice(0, 40)}…` : c, c]))('%s', (_label, text) => {
    expect(isJsonText(text)).toBe(parses(text));
  });

  it('agrees on 20,000 random mutations of span lines', () => {
    const base = JSON.stringify({ traceId: '5eed0000000000000000000000000001', id: '0000000000000001', name: 'get /x', timestamp: 1_700_000_000_000_000, duration: 7.5, tags: { 'a.b': 'c\\"d', n: -1e-3 }, annotations: [{ timestamp: 1, value: 'ws' }], shared: true, debug: null });
    const alphabet = '{}[]",:\\ -+.0123456789eEtrufalsn\u0000\n\tx';
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let valid = 0;
    for (let k = 0; k < 20_000; k++) {
      const chars = base.split('');
      for (let m = 0; m <= rnd(3); m++) {
        const at = rnd(chars.length);
        const op = rnd(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, alphabet[rnd(alphabet.length)]);
        else chars[at] = alphabet[rnd(alphabet.length)];
      }
      const s = chars.join('');
      const want = parses(s);
      if (want) valid++;
      expect(isJsonText(s), s).toBe(want);
    }
    expect(valid).toBeGreaterThan(100);
  });
});
