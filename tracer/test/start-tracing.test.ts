import http from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeSpanLine } from '@pintrace/model';
import { currentTraceId, silentLogger, startTracing, TracingConfigError, type Tracing } from '@pintrace/tracer';

let dir: string;
let tracing: Tracing | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'start-tracing-'));
});
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Every line of a service's span files (one per process by default, live and rotated). */
async function spanText(service: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.startsWith(`${service}@`) || n.startsWith(`${service}.jsonl`)).sort();
  return (await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8')))).join('');
}

describe('startTracing', () => {
  it('registers globally, so code using only @opentelemetry/api reports to <spansDir>/<service>@<instance>.jsonl', async () => {
    tracing = startTracing({ serviceName: 'Checkout', spansDir: dir, logger: silentLogger });
    // what a third-party library does:
    const libraryTracer = trace.getTracer('some-library', '1.0.0');
    libraryTracer.startActiveSpan('library-op', (span) => {
      expect(currentTraceId()).toMatch(/^[0-9a-f]{16}$/);
      span.setAttribute('lib.key', 'v');
      span.end();
    });
    await tracing.flush();
    expect(tracing.spanLogger!.path).toMatch(new RegExp(`/Checkout@${process.pid}-[a-z0-9]{6}\\.jsonl$`));
    const [line] = (await readFile(tracing.spanLogger!.path, 'utf8')).trim().split('\n');
    const decoded = decodeSpanLine(line);
    expect(decoded.ok && decoded.span).toMatchObject({
      name: 'library-op',
      localEndpoint: { serviceName: 'checkout' },
      tags: { 'lib.key': 'v' },
    });
    const carrier: Record<string, string> = {};
    const span = trace.getTracer('x').startSpan('s');
    propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
    expect(Object.keys(carrier)).toContain('x-b3-traceid');
  });

  it('instruments node:http by default and undoes everything on shutdown', async () => {
    tracing = startTracing({ serviceName: 'svc', spansDir: dir, logger: silentLogger });
    const server = http.createServer((_req, res) => res.end(currentTraceId()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const body = await new Promise<string>((resolve) =>
      http.get(url, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
      }),
    );
    expect(body).toMatch(/^[0-9a-f]{16}$/);
    await tracing.shutdown();
    const spans = (await spanText('svc'))
      .trim()
      .split('\n')
      .map((l) => decodeSpanLine(l))
      .map((d) => (d.ok ? d.span : undefined));
    expect(spans.map((s) => s?.kind).sort()).toEqual(['CLIENT', 'SERVER']);
    expect(spans.every((s) => s?.traceId === body)).toBe(true);

    // after shutdown: no globals, no patches
    expect(trace.getTracer('x').startSpan('y').isRecording()).toBe(false);
    expect(context.active()).toBe(ROOT_CONTEXT);
    const untraced = await new Promise<string>((resolve) =>
      http.get(url, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
      }),
    );
    expect(untraced).toBe('');
    server.close();
  });

  it('two services in one process: only one registers globally, both trace', async () => {
    tracing = startTracing({ serviceName: 'a', spansDir: dir, registerGlobal: false, logger: silentLogger });
    const second = startTracing({ serviceName: 'b', spansDir: dir, registerGlobal: false, logger: silentLogger });
    second.tracer.startActiveSpan('in-b', (span) => {
      expect(trace.getActiveSpan()).toBe(span);
      span.end();
    });
    await second.shutdown();
    // the shared context manager stays while `a` runs
    tracing.tracer.startActiveSpan('in-a', (span) => {
      expect(trace.getActiveSpan()).toBe(span);
      span.end();
    });
    await tracing.flush();
    expect(await spanText('b')).toContain('"in-b"');
    expect(await spanText('a')).toContain('"in-a"');
  });

  it('rejects bad configuration with a message saying what to change', () => {
    expect(() => startTracing({ serviceName: '', spansDir: dir })).toThrow(TracingConfigError);
    expect(() => startTracing({ serviceName: 'svc' })).toThrow(/spansDir/);
    expect(() => startTracing({ serviceName: 'svc', spansDir: dir, sampleRate: 150 })).toThrow(/0 to 100/);
    expect(() => startTracing({ serviceName: 'a b', spansDir: dir })).toThrow(/file-name-safe/);
  });

  it('samples by rate: 0 % records nothing', async () => {
    tracing = startTracing({ serviceName: 'svc', spansDir: dir, sampleRate: 0, registerGlobal: false, logger: silentLogger });
    for (let i = 0; i < 10; i++) tracing.tracer.startSpan('x').end();
    await tracing.flush();
    expect(tracing.spanLogger?.stats().accepted).toBe(0);
  });
});

describe('startTracing with a decider file', () => {
  it('samples at the decider rate, follows a change, and dev mode samples everything', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeDeciderFile } = await import('@pintrace/sampler');
    const { InMemorySpanSink, silentLogger, startTracing } = await import('@pintrace/tracer');
    const file = join(mkdtempSync(join(tmpdir(), 'tracing-decider-')), 'decider.json');
    await writeDeciderFile(file, { 'pintrace.sample_rate.svc': 0 });
    const sink = new InMemorySpanSink();
    const tracing = startTracing({ serviceName: 'svc', sink, deciderFile: file, sampleRate: 100, registerGlobal: false, logger: silentLogger, dev: false });
    tracing.tracer.startSpan('a').end();
    expect(sink.spans()).toHaveLength(0);
    await writeDeciderFile(file, { 'pintrace.sample_rate.svc': 100 });
    tracing.decider!.reload();
    tracing.tracer.startSpan('b').end();
    expect(sink.spans()).toHaveLength(1);
    await tracing.shutdown();

    const devSink = new InMemorySpanSink();
    await writeDeciderFile(file, { 'pintrace.sample_rate': 0 });
    const dev = startTracing({ serviceName: 'svc', sink: devSink, deciderFile: file, registerGlobal: false, logger: silentLogger, dev: true });
    dev.tracer.startSpan('c').end();
    expect(devSink.spans()).toHaveLength(1);
    await dev.shutdown();
  });
});
