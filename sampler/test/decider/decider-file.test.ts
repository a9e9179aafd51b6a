import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DeciderFormatError,
  deciderFilePath,
  DEFAULT_DECIDER_FILE,
  formatDeciderValues,
  parseDeciderValues,
  readDeciderFile,
  setDeciderValue,
  writeDeciderFile,
} from '@pintrace/sampler';

const dir = () => mkdtempSync(join(tmpdir(), 'decider-file-'));

describe('decider document', () => {
  it('parses name → percent, fractions allowed, names lower-cased', () => {
    const values = parseDeciderValues('{"Pintrace.Sample_Rate": 0.3, "pintrace.sample_rate.checkout": 100, "x": 0}');
    expect([...values]).toEqual([
      ['pintrace.sample_rate', 0.3],
      ['pintrace.sample_rate.checkout', 100],
      ['x', 0],
    ]);
  });

  it.each([
    ['not json', '{"a": 1'],
    ['an array', '[1]'],
    ['null', 'null'],
    ['a string value', '{"a": "5"}'],
    ['a negative value', '{"a": -1}'],
    ['a value over 100', '{"a": 100.5}'],
    ['a name with a space', '{"a b": 1}'],
    ['an empty name', '{"": 1}'],
  ])('rejects %s as a whole', (_what, text) => {
    expect(() => parseDeciderValues(text)).toThrow(DeciderFormatError);
  });

  it('formats with sorted keys and a final newline, as KingPin writes', () => {
    expect(formatDeciderValues({ b: 1, A: 0.3 })).toBe('{\n  "a": 0.3,\n  "b": 1\n}\n');
  });
});

describe('decider file', () => {
  it('defaults to ./var/config/decider.json, overridden by PINTRACE_DECIDER_FILE, then by the flag', () => {
    expect(deciderFilePath(undefined, {})).toBe(DEFAULT_DECIDER_FILE);
    expect(deciderFilePath(undefined, { PINTRACE_DECIDER_FILE: '/etc/d.json' })).toBe('/etc/d.json');
    expect(deciderFilePath('/x.json', { PINTRACE_DECIDER_FILE: '/etc/d.json' })).toBe('/x.json');
  });

  it('reads a missing file as empty', async () => {
    expect((await readDeciderFile(join(dir(), 'none.json'))).size).toBe(0);
  });

  it('writes through a temp file and rename, leaving no temp file behind, creating the directory', async () => {
    const path = join(dir(), 'config', 'decider.json');
    await writeDeciderFile(path, { 'pintrace.sample_rate': 0.3 });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ 'pintrace.sample_rate': 0.3 });
    expect(readdirSync(join(path, '..'))).toEqual(['decider.json']);
  });

  it('set and unset are read-modify-write of one name', async () => {
    const path = join(dir(), 'decider.json');
    await setDeciderValue(path, 'pintrace.sample_rate', 1);
    await setDeciderValue(path, 'PINTRACE.sample_rate.front', 0.5);
    expect(Object.fromEntries(await readDeciderFile(path))).toEqual({ 'pintrace.sample_rate': 1, 'pintrace.sample_rate.front': 0.5 });
    await setDeciderValue(path, 'pintrace.sample_rate', undefined);
    expect(Object.fromEntries(await readDeciderFile(path))).toEqual({ 'pintrace.sample_rate.front': 0.5 });
  });

  it('refuses a value outside 0..100 and refuses to overwrite a corrupt file', async () => {
    const path = join(dir(), 'decider.json');
    await expect(setDeciderValue(path, 'a', 101)).rejects.toThrow(/0 to 100/);
    writeFileSync(path, '{oops');
    await expect(setDeciderValue(path, 'a', 1)).rejects.toThrow(DeciderFormatError);
    expect(readFileSync(path, 'utf8')).toBe('{oops');
  });
});
