import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeciderRateSource, FileDecider, ProbabilisticSampler, writeDeciderFile, type DeciderLogger } from '@pintrace/sampler';

interface Logged {
  level: string;
  obj: object;
  msg?: string;
}

function recordingLogger(): DeciderLogger & { lines: Logged[] } {
  const lines: Logged[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const deciders: FileDecider[] = [];
afterEach(async () => {
  await Promise.all(deciders.splice(0).map((d) => d.shutdown()));
});

function open(path: string, logger = recordingLogger(), pollMs = 1000): FileDecider {
  const decider = new FileDecider({ path, logger, pollMs });
  deciders.push(decider);
  return decider;
}

describe('FileDecider', () => {
  it('reads the file synchronously at construction', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'decider-')), 'decider.json');
    writeFileSync(path, '{"pintrace.sample_rate": 0.3}');
    const decider = open(path);
    expect(decider.getValue('PINTRACE.SAMPLE_RATE')).toBe(0.3);
    expect(decider.getValue('unset', 7)).toBe(7);
    expect(decider.stats()).toMatchObject({ reloads: 1, errors: 0 });
  });

  it('picks up an atomic replace (rename) through the directory watch and logs the change', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'decider-')), 'decider.json');
    await writeDeciderFile(path, { a: 1 });
    const logger = recordingLogger();
    const decider = open(path, logger, 60_000); // no poll: the watch alone must see it
    const seen: number[] = [];
    decider.onChange((values) => seen.push(values.get('a') ?? -1));
    await writeDeciderFile(path, { a: 2.5 });
    await until(() => decider.getValue('a') === 2.5);
    expect(seen).toEqual([2.5]);
    expect(logger.lines.at(-1)).toMatchObject({ level: 'info', msg: 'decider changed', obj: { changes: ['a: 1 → 2.5'] } });
  });

  it('picks up a change by polling when no watch event comes (file created later, in a new directory)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'decider-'));
    const path = join(root, 'later', 'decider.json');
    const decider = open(path, recordingLogger(), 50);
    expect(decider.getValue('a', 42)).toBe(42);
    await writeDeciderFile(path, { a: 3 });
    await until(() => decider.getValue('a') === 3);
  });

  it('keeps the last good map on a corrupt file, counts and logs it once, then recovers', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'decider-')), 'decider.json');
    await writeDeciderFile(path, { a: 10 });
    const logger = recordingLogger();
    const decider = open(path, logger, 50);
    writeFileSync(path, '{"a": 20'); // truncated, as a non-atomic copy could leave it
    await until(() => decider.stats().errors === 1);
    await new Promise((r) => setTimeout(r, 150)); // more polls of the same bad content
    expect(decider.getValue('a')).toBe(10);
    expect(decider.stats().errors).toBe(1);
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    writeFileSync(path, '{"a": 200}'); // out of range: rejected too
    await until(() => decider.stats().errors === 2);
    expect(decider.getValue('a')).toBe(10);
    await writeDeciderFile(path, { a: 30 });
    await until(() => decider.getValue('a') === 30);
  });

  it('does not swap or notify when only the mtime changed', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'decider-')), 'decider.json');
    writeFileSync(path, '{"a": 1}');
    const decider = open(path, recordingLogger(), 30);
    let changes = 0;
    decider.onChange(() => changes++);
    const temp = `${path}.tmp`;
    writeFileSync(temp, '{"a": 1}');
    renameSync(temp, path);
    await new Promise((r) => setTimeout(r, 150));
    expect(changes).toBe(0);
    expect(decider.stats().reloads).toBe(1);
  });

  it('implements KingPin decide and the md5 hashed-id rule', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'decider-')), 'decider.json');
    writeFileSync(path, '{"on": 100, "off": 0, "half": 50}');
    const decider = open(path);
    expect(decider.decide('on')).toBe(true);
    expect(decider.decide('off', true)).toBe(false);
    expect(decider.decide('missing', true)).toBe(true);
    // int(md5("decider_half<id>").hexdigest(), 16) % 100 for ids 0..7, from Python's hashlib
    const pythonBuckets = [69, 35, 34, 11, 44, 64, 24, 22];
    pythonBuckets.forEach((bucket, id) => expect(decider.isHashedIdIn('half', id)).toBe(bucket < 50));
    let inCount = 0;
    for (let id = 0; id < 1000; id++) if (decider.isHashedIdIn('half', id)) inCount++;
    expect(inCount).toBeGreaterThan(400);
    expect(inCount).toBeLessThan(600);
    expect(decider.isHashedIdIn('half', 12345)).toBe(decider.isHashedIdIn('HALF', 12345));
  });
});

describe('DeciderRateSource', () => {
  it('resolves endpoint > service > global > default, and follows changes', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'decider-')), 'decider.json');
    await writeDeciderFile(path, { 'pintrace.sample_rate': 0.3 });
    const decider = open(path, recordingLogger(), 30);
    const front = new DeciderRateSource({ decider, serviceName: 'Front' });
    const other = new DeciderRateSource({ decider, serviceName: 'other' });
    expect(front.current()).toBe(0.3);
    expect(front.rateFor('/checkout')).toBe(0.3);
    await writeDeciderFile(path, {
      'pintrace.sample_rate': 0.3,
      'pintrace.sample_rate.front': 5,
      'pintrace.sample_rate.front./checkout': 100,
    });
    await until(() => front.current() === 5);
    expect(front.rateFor('/Checkout')).toBe(100);
    expect(front.rateFor('/other')).toBe(5);
    expect(other.current()).toBe(0.3);
    await writeDeciderFile(path, {});
    await until(() => front.current() === 0);
    expect(new DeciderRateSource({ decider, serviceName: 'x', defaultRate: 1 }).current()).toBe(1);
  });

  it('hand-set service and endpoint values beat computed ones; computed ones beat the global base', () => {
    let listener: ((values: ReadonlyMap<string, number>) => void) | undefined;
    const decider = {
      all: () => new Map<string, number>(),
      onChange: (fn: (values: ReadonlyMap<string, number>) => void) => {
        listener = fn;
        return () => undefined;
      },
    };
    const source = new DeciderRateSource({ decider, serviceName: 'shop', defaultRate: 7 });
    const set = (values: Record<string, number>) => listener!(new Map(Object.entries(values)));
    set({ 'pintrace.sample_rate': 10, 'pintrace.sample_rate_auto.shop': 2, 'pintrace.sample_rate_auto.shop./hot': 0.5 });
    expect([source.current(), source.rateFor('/hot'), source.rateFor('/new')]).toEqual([2, 0.5, 2]);
    // a hand-set endpoint value wins over the computed one for that endpoint only
    set({ 'pintrace.sample_rate_auto.shop': 2, 'pintrace.sample_rate_auto.shop./hot': 0.5, 'pintrace.sample_rate.shop./hot': 50 });
    expect([source.current(), source.rateFor('/hot')]).toEqual([2, 50]);
    // a hand-set service value wins over every computed value of the service
    set({
      'pintrace.sample_rate.shop': 30,
      'pintrace.sample_rate_auto.shop': 2,
      'pintrace.sample_rate_auto.shop./hot': 0.5,
      'pintrace.sample_rate.shop./x': 1,
    });
    expect([source.current(), source.rateFor('/hot'), source.rateFor('/x')]).toEqual([30, 30, 1]);
    // nothing computed: the global base, then the default
    set({ 'pintrace.sample_rate': 10, 'pintrace.sample_rate_auto.other./hot': 1 });
    expect([source.current(), source.rateFor('/hot')]).toEqual([10, 10]);
    set({});
    expect(source.current()).toBe(7);
  });

  it('dev mode samples 100 % whatever the file says', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'decider-')), 'decider.json');
    writeFileSync(path, '{"pintrace.sample_rate": 0}');
    const source = new DeciderRateSource({ decider: open(path), serviceName: 'svc', dev: true });
    expect(source.current()).toBe(100);
    expect(source.rateFor('/x')).toBe(100);
  });

  it('drives a ProbabilisticSampler: per-endpoint rates apply to roots that name their endpoint', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'decider-')), 'decider.json');
    await writeDeciderFile(path, { 'pintrace.sample_rate.svc': 0, 'pintrace.sample_rate.svc./debug': 100 });
    const sampler = new ProbabilisticSampler(new DeciderRateSource({ decider: open(path), serviceName: 'svc' }));
    expect(sampler.isSampled('0000000000000001')).toBe(false);
    expect(sampler.isSampled('0000000000000001', '/debug')).toBe(true);
    expect(sampler.isSampled('0000000000000001', '/other')).toBe(false);
  });
});
