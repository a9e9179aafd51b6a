import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeSpanLine } from '@pintrace/model';
import { ALWAYS_SAMPLE } from '@pintrace/sampler';
import { SpanLogger, silentLogger, startTracing, TracingConfigError, type DiagnosticLogger, type FinishedSpan, type SpanLoggerOptions } from '@pintrace/tracer';

let dir: string;
let loggers: SpanLogger[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'span-logger-'));
});
afterEach(async () => {
  await Promise.all(loggers.map((l) => l.shutdown()));
  loggers = [];
  await rm(dir, { recursive: true, force: true });
});

function recordingLogger(): DiagnosticLogger & { warnings: Array<{ obj: object; msg?: string }> } {
  const warnings: Array<{ obj: object; msg?: string }> = [];
  return {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (obj, msg) => warnings.push({ obj, msg }),
    error: (obj, msg) => warnings.push({ obj, msg }),
  };
}

/** The first layout, `<dir>/svc.jsonl`, unless the test asks for the per-process one. */
function create(options: Partial<SpanLoggerOptions> = {}): SpanLogger {
  const logger = new SpanLogger({ dir, serviceName: 'svc', fileLayout: 'per-service', logger: recordingLogger(), ...options });
  loggers.push(logger);
  return logger;
}

let seq = 0;
function span(name = 'op'): FinishedSpan {
  seq++;
  return {
    traceId: `0000000000000000${seq.toString(16).padStart(16, '0')}`,
    spanId: seq.toString(16).padStart(16, '0'),
    parentSpanId: undefined,
    name,
    kind: SpanKind.SERVER,
    startMicros: 1_700_000_000_000_000 + seq,
    durationMicros: 10,
    attributes: { 'http.path': '/x' },
    events: [],
    status: { code: SpanStatusCode.UNSET },
    debug: false,
    shared: false,
    localEndpoint: { serviceName: 'svc' },
  };
}

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
}

describe('SpanLogger', () => {
  it('appends one Zipkin v2 JSON span per line to <dir>/<service>.jsonl on flush', async () => {
    const logger = create();
    logger.accept(span('a'));
    logger.accept(span('b'));
    await logger.flush();
    const written = await lines(join(dir, 'svc.jsonl'));
    expect(written).toHaveLength(2);
    const decoded = written.map((l) => decodeSpanLine(l));
    expect(decoded.map((d) => d.ok && d.span.name)).toEqual(['a', 'b']);
    expect(logger.stats()).toMatchObject({ accepted: 2, written: 2, dropped: 0, queued: 0 });
  });

  it('does nothing on accept but queue: the file is written later', async () => {
    const logger = create({ flushIntervalMs: 10 });
    logger.accept(span());
    expect(logger.stats().queued).toBe(1);
    expect(existsSync(logger.path)).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(await lines(logger.path)).toHaveLength(1);
  });

  it('writes a span as it ended: what its tracer is told afterwards, before the span is encoded, is not written', async () => {
    const logger = create({ flushIntervalMs: 60_000 });
    const tracing = startTracing({ serviceName: 'svc', sink: logger, sampler: ALWAYS_SAMPLE, registerGlobal: false, logger: silentLogger });
    const ended = tracing.tracer.startSpan('before', { attributes: { kept: 'yes' } });
    ended.end();
    ended.updateName('after');
    ended.setAttribute('kept', 'no');
    ended.setAttribute('added', 'late');
    ended.addEvent('late');
    ended.setStatus({ code: SpanStatusCode.ERROR, message: 'late' });
    await logger.flush();
    const [line] = await lines(logger.path);
    const written = JSON.parse(line);
    expect(written).toMatchObject({ name: 'before', tags: { kept: 'yes' } });
    expect(written.tags).not.toHaveProperty('added');
    expect(written.tags).not.toHaveProperty('error');
    expect(written).not.toHaveProperty('annotations');
  });

  it('starts a flush at maxBatch spans, counts spans not yet encoded as queued, and a flush writes them', async () => {
    // spans are encoded 64 at a time: at maxBatch 64, the 64th span encodes the batch, whose 64
    // encoded spans start a flush
    const logger = create({ maxBatch: 64, flushIntervalMs: 60_000 });
    for (let i = 0; i < 63; i++) logger.accept(span(`s${i}`));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(existsSync(logger.path) ? await lines(logger.path) : []).toEqual([]);
    logger.accept(span('s63'));
    for (let i = 0; i < 100 && !(existsSync(logger.path) && (await lines(logger.path)).length === 64); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await lines(logger.path)).map((l) => JSON.parse(l).name)).toEqual(Array.from({ length: 64 }, (_, i) => `s${i}`));
    expect(logger.stats()).toMatchObject({ accepted: 64, written: 64, queued: 0 });
    logger.accept(span('s64'));
    expect(logger.stats()).toMatchObject({ accepted: 65, written: 64, queued: 1 });
    await logger.flush();
    expect((await lines(logger.path)).at(-1)).toContain('"s64"');
    expect(logger.stats()).toMatchObject({ accepted: 65, written: 65, queued: 0 });
  });

  it('writes a span bigger than its buffers whole, in the order spans were accepted', async () => {
    const logger = create();
    const big = { ...span('big'), attributes: { blob: 'x'.repeat(600 * 1024) } };
    logger.accept(span('first'));
    logger.accept(big);
    logger.accept(span('last'));
    await logger.flush();
    const written = await lines(logger.path);
    expect(written.map((l) => JSON.parse(l).name)).toEqual(['first', 'big', 'last']);
    expect(JSON.parse(written[1]).tags.blob).toHaveLength(600 * 1024);
    expect(logger.stats()).toMatchObject({ accepted: 3, written: 3, dropped: 0, queued: 0 });
  });

  it('keeps writing across many buffers of encoded spans (reusing them), and drops an unencodable span alone', async () => {
    const diagnostics = recordingLogger();
    const logger = create({ maxQueue: 100_000, maxBatch: 100_000, flushIntervalMs: 60_000, logger: diagnostics });
    const bad = span('bad');
    (bad as { events: unknown }).events = null; // the encoder throws on it
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2000; i++) logger.accept(span(`s${round}-${i}`));
      if (round === 1) logger.accept(bad);
      await logger.flush();
    }
    const written = await lines(logger.path);
    expect(written).toHaveLength(6000);
    expect(written.at(-1)).toContain('"name":"s2-1999"');
    expect(logger.stats()).toMatchObject({ written: 6000, encodeErrors: 1, dropped: 1 });
    expect(diagnostics.warnings.filter((w) => w.msg?.includes('could not be encoded'))).toHaveLength(1);
  });

  it('writes a full batch without waiting for the timer, in batches of maxBatch', async () => {
    const logger = create({ maxBatch: 10, flushIntervalMs: 60_000 });
    for (let i = 0; i < 25; i++) logger.accept(span());
    await new Promise((r) => setTimeout(r, 50));
    expect(logger.stats().written).toBeGreaterThanOrEqual(20);
    await logger.flush();
    expect(await lines(logger.path)).toHaveLength(25);
  });

  it('drops and counts a burst bigger than the queue, logs the run once, and never blocks', async () => {
    const diagnostics = recordingLogger();
    const logger = create({ maxQueue: 100, maxBatch: 1000, flushIntervalMs: 60_000, logger: diagnostics });
    const started = process.hrtime.bigint();
    for (let i = 0; i < 10_000; i++) logger.accept(span());
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(elapsedMs).toBeLessThan(500);
    expect(logger.stats()).toMatchObject({ accepted: 100, dropped: 9900, queued: 100 });
    await logger.flush();
    expect(await lines(logger.path)).toHaveLength(100);
    const dropLogs = diagnostics.warnings.filter((w) => w.msg?.includes('dropped'));
    expect(dropLogs).toHaveLength(1);
    expect(dropLogs[0].obj).toMatchObject({ dropped: 9900 });
    // a later run is logged again, with its own count
    for (let i = 0; i < 150; i++) logger.accept(span());
    await logger.flush();
    expect(diagnostics.warnings.filter((w) => w.msg?.includes('dropped')).map((w) => (w.obj as { dropped: number }).dropped)).toEqual([9900, 50]);
  });

  it('rotates by rename when the file would grow past rotateBytes', async () => {
    const logger = create({ rotateBytes: 1000, maxBatch: 3 });
    for (let i = 0; i < 30; i++) {
      logger.accept(span());
      if (i % 3 === 2) await logger.flush();
    }
    await logger.flush();
    const files = (await readdir(dir)).sort();
    const rotated = files.filter((f) => /^svc\.jsonl\.\d+$/.test(f));
    expect(rotated.length).toBeGreaterThan(1);
    expect(files).toContain('svc.jsonl');
    let total = 0;
    for (const file of files) {
      const content = await readFile(join(dir, file), 'utf8');
      expect(content.length).toBeLessThanOrEqual(1000);
      expect(content.endsWith('\n')).toBe(true);
      total += (await lines(join(dir, file))).length;
    }
    expect(total).toBe(30);
    const stamps = rotated.map((f) => Number(f.split('.').pop()));
    expect(new Set(stamps).size).toBe(stamps.length);
    expect(logger.stats().rotations).toBe(rotated.length);
  });

  it('rotates by age', async () => {
    const logger = create({ rotateAgeMs: 20 });
    logger.accept(span());
    await logger.flush();
    await new Promise((r) => setTimeout(r, 40));
    logger.accept(span());
    await logger.flush();
    const files = await readdir(dir);
    expect(files.filter((f) => f.startsWith('svc.jsonl.'))).toHaveLength(1);
    expect(await lines(logger.path)).toHaveLength(1);
  });

  it('appends to an existing file and counts its size towards rotation', async () => {
    await writeFile(join(dir, 'svc.jsonl'), 'x'.repeat(900) + '\n');
    const logger = create({ rotateBytes: 1000 });
    logger.accept(span());
    await logger.flush();
    expect((await readdir(dir)).filter((f) => f.startsWith('svc.jsonl.'))).toHaveLength(1);
    expect(await lines(logger.path)).toHaveLength(1);
  });

  it('counts failed writes as drops and never throws', async () => {
    const diagnostics = recordingLogger();
    await writeFile(join(dir, 'blocker'), '');
    const logger = create({ dir: join(dir, 'blocker', 'sub'), logger: diagnostics });
    logger.accept(span());
    await expect(logger.flush()).resolves.toBeUndefined();
    expect(logger.stats()).toMatchObject({ dropped: 1, writeErrors: 1 });
    expect(diagnostics.warnings).toHaveLength(1);
  });

  it('writes the queue when the process runs out of work (beforeExit)', async () => {
    const listenersBefore = process.listenerCount('beforeExit');
    const logger = create({ flushIntervalMs: 60_000 });
    logger.accept(span());
    process.emit('beforeExit', 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(await lines(logger.path)).toHaveLength(1);
    await logger.shutdown();
    expect(process.listenerCount('beforeExit')).toBe(listenersBefore);
  });

  it('shutdown flushes, closes, and drops what comes after', async () => {
    const logger = create();
    logger.accept(span());
    await logger.shutdown();
    await logger.shutdown();
    logger.accept(span());
    expect(await lines(logger.path)).toHaveLength(1);
    expect(logger.stats()).toMatchObject({ written: 1, dropped: 1 });
  });

  describe('per-process layout (the default)', () => {
    it('writes <service>@<pid>-<random>.jsonl: two loggers of one service never share a file', async () => {
      const first = create({ fileLayout: undefined });
      const second = create({ fileLayout: undefined });
      expect(first.path).toMatch(new RegExp(`/svc@${process.pid}-[a-z0-9]{6}\\.jsonl$`));
      expect(second.path).not.toBe(first.path);
      first.accept(span());
      second.accept(span());
      await Promise.all([first.flush(), second.flush()]);
      expect(await lines(first.path)).toHaveLength(1);
      expect(await lines(second.path)).toHaveLength(1);
    });

    it('rotates to <live name>.<epoch-ms> like the first layout', async () => {
      const logger = create({ fileLayout: 'per-process', instance: 'p1', rotateBytes: 1000, maxBatch: 3 });
      for (let i = 0; i < 30; i++) {
        logger.accept(span());
        if (i % 3 === 2) await logger.flush();
      }
      await logger.flush();
      const files = await readdir(dir);
      expect(files.filter((f) => /^svc@p1\.jsonl\.\d+$/.test(f)).length).toBeGreaterThan(1);
      expect(files).toContain('svc@p1.jsonl');
    });

    it('shutdown seals the file (renamed as a rotation), so the agent knows no one writes it; an unused logger leaves nothing', async () => {
      const logger = create({ fileLayout: 'per-process', instance: 'p2' });
      const unused = create({ fileLayout: 'per-process', instance: 'p3' });
      logger.accept(span());
      await logger.flush();
      await Promise.all([logger.shutdown(), unused.shutdown()]);
      const files = await readdir(dir);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^svc@p2\.jsonl\.\d+$/);
      expect(await lines(join(dir, files[0]))).toHaveLength(1);
    });

    it('shutdown removes a file that holds nothing', async () => {
      const logger = create({ fileLayout: 'per-process', instance: 'p4' });
      await writeFile(logger.path, '');
      await logger.shutdown();
      expect(await readdir(dir)).toEqual([]);
    });

    it('after an idle spell, a file sealed by the agent (renamed) is not appended to: the next write opens a new one', async () => {
      const { vi } = await import('vitest');
      const logger = create({ fileLayout: 'per-process', instance: 'p5' });
      logger.accept(span());
      await logger.flush();
      const { rename } = await import('node:fs/promises');
      await rename(logger.path, `${logger.path}.1`);
      // within the re-check period the open file is used as is (no syscall per write) ...
      logger.accept(span());
      await logger.flush();
      expect(await lines(`${logger.path}.1`)).toHaveLength(2);
      expect(existsSync(logger.path)).toBe(false);
      // ... after it, the writer checks that its name still leads to its file
      const now = Date.now();
      vi.spyOn(Date, 'now').mockReturnValue(now + 31_000);
      try {
        logger.accept(span());
        await logger.flush();
      } finally {
        vi.restoreAllMocks();
      }
      expect(await lines(`${logger.path}.1`)).toHaveLength(2);
      expect(await lines(logger.path)).toHaveLength(1);
      expect(logger.stats()).toMatchObject({ written: 3, dropped: 0 });
    });

    it('a rotation finding its file already sealed by the agent opens a new one without a warning', async () => {
      const diagnostics = recordingLogger();
      const logger = create({ fileLayout: 'per-process', instance: 'p6', rotateBytes: 600, logger: diagnostics });
      logger.accept(span());
      await logger.flush();
      const { rename } = await import('node:fs/promises');
      await rename(logger.path, `${logger.path}.1`);
      for (let i = 0; i < 3; i++) logger.accept(span());
      await logger.flush();
      expect(diagnostics.warnings).toEqual([]);
      const total = (await lines(`${logger.path}.1`)).length + (await lines(logger.path)).length;
      expect(total).toBe(4);
    });

    it('rejects a bad layout or instance', () => {
      expect(() => create({ fileLayout: 'shared' as never })).toThrow(/fileLayout must be 'per-process' or 'per-service'/);
      expect(() => create({ fileLayout: 'per-process', instance: 'a.b' })).toThrow(/instance must be letters, digits/);
    });
  });

  it('rejects bad options with a message saying what to change', () => {
    expect(() => new SpanLogger({ dir: '', serviceName: 'svc' })).toThrow(TracingConfigError);
    expect(() => new SpanLogger({ dir, serviceName: 'a/b' })).toThrow(/file-name-safe/);
    expect(() => new SpanLogger({ dir, serviceName: 'svc', maxQueue: 0 })).toThrow(/maxQueue must be a positive number/);
  });
});
