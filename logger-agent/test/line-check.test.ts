import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { traceIdOfLine } from '@pintrace/model';
import { buildChunk, LINE_INVALID_JSON, LINE_NO_TRACE_ID, LINE_NOT_OBJECT, LINE_OK } from '../src/line-check.js';
import { traceKey } from '../src/trace-key.js';

const parses = (s: string) => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};

/** One line inside other bytes (a scan that ran past its end would be caught): its status and key. */
const lineResult = (line: Buffer, check = true) => {
  const bytes = Buffer.concat([Buffer.from('1"{\n'), line, Buffer.from('\n"}\\0"}')]);
  const chunk = buildChunk(bytes, [4], [4 + line.length], 1, Infinity, check);
  return { status: chunk.rejected === 0 ? LINE_OK : chunk.status[0], key: chunk.messages[0]?.key };
};
/** Whether `text` is valid JSON by the line check: as a value inside a span line. */
const check = (text: Buffer) => lineResult(Buffer.concat([Buffer.from('{"traceId":"a1","x":'), text, Buffer.from('}')])).status === LINE_OK;
/** What the agent should make of a line, from JSON.parse and @pintrace/model's traceIdOfLine. */
const expected = (text: string) => {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return { status: LINE_NOT_OBJECT, key: undefined };
  const id = traceIdOfLine(text);
  if (id === undefined) return { status: LINE_NO_TRACE_ID, key: undefined };
  if (!parses(text)) return { status: LINE_INVALID_JSON, key: undefined };
  return { status: LINE_OK, key: traceKey(id) };
};

describe('the line check agrees with JSON.parse', () => {
  const cases = [
    '{}',
    '[]',
    '{"a":1}',
    '{"a":[1,2,{"b":null}],"c":true,"d":false}',
    ' { "a" : "x" } ',
    '{"a":-0.5e+10}',
    '{"a":1E3}',
    '{"s":"\\u00e9\\n\\t\\"\\\\\\/"}',
    '"x"',
    '0',
    '-1',
    'true',
    'null',
    '[[[[]]]]',
    '{"a":{"b":{"c":{}}}}',
    '{',
    '}',
    '{"a"}',
    '{"a":}',
    '{"a":1,}',
    '[1,]',
    '[,1]',
    '{"a":1 "b":2}',
    '{a:1}',
    "{'a':1}",
    '{"a":01}',
    '{"a":1.}',
    '{"a":.5}',
    '{"a":-}',
    '{"a":1e}',
    '{"a":tru}',
    '{"a":nul}',
    '{"a":"\\x"}',
    '{"a":"\\u12"}',
    '{"a":"\u0001"}',
    '{"a":"unterminated}',
    '{"a":1}}',
    '{"a":1} x',
    '',
    '   ',
    '[1 2]',
    '{"a":NaN}',
    '{"a":Infinity}',
    '{"a":+1}',
    '{"a":"\t"}',
    '["\u2028"]',
    '{"a":"\ud800"}',
    '['.repeat(100_000),
    '{"a":"ünï 😀"}',
    '{"a":1}\u00a0',
    '\u00a0{"a":1}',
    '{"a\u00e9":1}',
    '{"a":"\\',
    '{"a":"\\u',
    '{"a":1',
    '{"a":tr',
    '{"a":-',
    '{"a":1.5e',
    '[1e5]',
    '[-0]',
    '[0.0e-0]',
    `{"a":${'['.repeat(1000)}${']'.repeat(1000)}}`,
  ];
  it.each(cases.map((c) => [c.length > 40 ? `${c.slice(0, 40)}…` : c, c]))('%s', (_label, text) => {
    expect(check(Buffer.from(text))).toBe(parses(text));
  });

  it('accepts any bytes >= 0x80 inside strings (as JSON.parse does after UTF-8 decoding) and none outside', () => {
    expect(check(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xc3, 0x22, 0x7d]))).toBe(true); // {"a":"\xff\xc3"}
    expect(check(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xc2, 0xa0, 0x31, 0x7d]))).toBe(false); // {"a":NBSP 1}
  });

  it('agrees on 20,000 random mutations of span lines (and the trace key with the string path)', () => {
    const base = JSON.stringify({
      traceId: '5eed0000000000000000000000000001',
      id: '0000000000000001',
      name: 'get /x ✓',
      timestamp: 1_700_000_000_000_000,
      duration: 7.5,
      tags: { 'a.b': 'c\\"d', n: -1e-3 },
      annotations: [{ timestamp: 1, value: 'ws' }],
      shared: true,
      debug: null,
    });
    const alphabet = '{}[]",:\\ -+.0123456789eEtrufalsn\u0000\n\tx\u00e9';
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let valid = 0;
    for (let k = 0; k < 20_000; k++) {
      const chars = [...base];
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
      expect(check(Buffer.from(s)), s).toBe(want);
      expect(lineResult(Buffer.from(s)), s).toEqual(expected(s));
    }
    expect(valid).toBeGreaterThan(100);
  }, 60_000);
});

describe('the trace key agrees with traceIdOfLine + traceKey', () => {
  const cases = [
    '{"traceId":"0af7651916cd43dd8448eb211c80319c","id":"1"}',
    '{"traceId":"8448eb211c80319c"}',
    '{"traceId":"abc"}',
    '{"traceId":"0000000000000000000000000000abcd"}',
    '{"traceId":"1234567890abcdef1"}',
    '{"traceId":"00000000000000000"}',
    '{"traceId":"0000000000000000"}',
    '{"traceId":""}',
    '{"traceId":"ABCDEF0123456789"}',
    '{"traceId":"0af7651916cd43dd8448eb211c80319c0"}',
    '{"tags":{"traceId":"bbbbbbbbbbbbbbbb"},"traceId":"aaaaaaaaaaaaaaa1"}',
    '{"id":"1","tags":{"traceId":"bbbbbbbbbbbbbbbb"}}',
    '{ "traceId" : "aaaaaaaaaaaaaaa1" }',
    '{"traceId":1}',
    '{"name":"a\\"traceId","traceId":"a1"}',
    '{"traceId":"a1',
    '{"traceId"',
    '[{"traceId":"a1"}]',
    '{"x":["traceId"],"traceId":"a2"}',
  ];
  it.each(cases)('%s', (text) => {
    expect(lineResult(Buffer.from(text))).toEqual(expected(text));
  });
});

describe('the line check on whole lines', () => {
  it('checks lines nested deeper than any fixed stack (one bit per level, sized by the line)', () => {
    const depth = 200_000;
    expect(lineResult(Buffer.from(`{"traceId":"a1","x":${'['.repeat(depth)}${']'.repeat(depth)}}`)).status).toBe(LINE_OK);
    expect(lineResult(Buffer.from(`{"traceId":"a1","x":${'['.repeat(depth)}${']'.repeat(depth - 1)}}`)).status).toBe(LINE_INVALID_JSON);
  });

  it('keys a 128-bit id whose low half is zero (valid; only an all-zero id is not)', () => {
    expect(lineResult(Buffer.from('{"traceId":"00000000000000010000000000000000"}'))).toEqual({ status: LINE_OK, key: '0000000000000000' });
    expect(lineResult(Buffer.from('{"traceId":"00000000000000000000000000000000"}')).status).toBe(LINE_NO_TRACE_ID);
  });

  it('with the JSON check off, only looks for the trace id', () => {
    expect(lineResult(Buffer.from('{"traceId":"a1",}'), false)).toEqual({ status: LINE_OK, key: '00000000000000a1' });
    expect(lineResult(Buffer.from('{"id":"1",}'), false).status).toBe(LINE_NO_TRACE_ID);
  });
});

describe('line-check.wasm', () => {
  const wasmDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'wasm');
  const clang = (() => {
    try {
      execFileSync('clang', ['--version'], { stdio: 'ignore' });
      execFileSync('wasm-ld', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  // CI installs clang and lld (scripts/setup.mjs), so there this always runs.
  it.skipIf(!clang)('is what wasm/build.sh makes of line-check.c (the committed binary is the source)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'line-check-'));
    try {
      execFileSync(path.join(wasmDir, 'build.sh'), [path.join(dir, 'line-check.wasm')]);
      expect(readFileSync(path.join(dir, 'line-check.wasm')).equals(readFileSync(path.join(wasmDir, 'line-check.wasm')))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
