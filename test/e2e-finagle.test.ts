import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { context, trace, type Span } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_SAMPLE } from '@pintrace/sampler';
import { createTTwitterConnection, createTTwitterServer, InMemorySpanSink, silentLogger, startTracing, type Tracing } from '@pintrace/tracer';
import { freePort } from './support/ports.js';

/**
 * Interop with the reference TTwitter peer: a real Finagle 22.7 server and client (Java API,
 * `tracer/test/thrift/finagle/FinaglePeer.java`, classpath resolved from Maven Central) against
 * our TTwitter client and server.
 */
const run = promisify(execFile);
const require = createRequire(import.meta.url);
const thrift = require('thrift');
const EchoService = require('../tracer/test/thrift/gen/EchoService.js');
const peerDir = fileURLToPath(new URL('../tracer/test/thrift/finagle/', import.meta.url));

interface EchoClient {
  echo(msg: string): Promise<string>;
}

function memoryTracing(serviceName: string): { tracing: Tracing; sink: InMemorySpanSink } {
  const sink = new InMemorySpanSink();
  const tracing = startTracing({ serviceName, sink, sampler: ALWAYS_SAMPLE, registerGlobal: false, logger: silentLogger });
  return { tracing, sink };
}

describe('TTwitter interop with a real Finagle peer', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'pintrace-finagle-'));
  let classpath: string;
  let finagleServer: ChildProcess | undefined;
  let finaglePort: number;

  beforeAll(async () => {
    const cpFile = path.join(work, 'cp.txt');
    await run('mvn', ['-q', '-B', '-f', path.join(peerDir, 'pom.xml'), 'dependency:build-classpath', `-Dmdep.outputFile=${cpFile}`], {
      timeout: 240_000,
    });
    const classes = path.join(work, 'classes');
    const deps = readFileSync(cpFile, 'utf8').trim();
    await run('javac', ['-d', classes, '-cp', deps, path.join(peerDir, 'FinaglePeer.java')], { timeout: 120_000 });
    classpath = `${classes}${path.delimiter}${deps}`;

    finaglePort = await freePort();
    finagleServer = spawn('java', ['-cp', classpath, 'FinaglePeer', 'server', String(finaglePort)], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`Finagle server did not start: ${out}`)), 60_000);
      finagleServer!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      finagleServer!.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      finagleServer!.once('exit', (code) => reject(new Error(`Finagle server exited ${code}: ${out}`)));
    });
  });

  afterAll(() => {
    finagleServer?.kill('SIGKILL');
  });

  it('our client → Finagle server: the upgrade is accepted and Finagle sees our client span as its trace', async () => {
    const { tracing, sink } = memoryTracing('node-client');
    const connection = createTTwitterConnection(tracing, '127.0.0.1', finaglePort, { remoteServiceName: 'finagle' });
    const client = thrift.createClient(EchoService, connection) as EchoClient;
    try {
      const parent = tracing.tracer.startSpan('caller');
      const reply = await context.with(trace.setSpan(context.active(), parent), () => client.echo('hello'));
      parent.end();
      expect(connection.upgraded).toBe(true);
      const [clientSpan, callerSpan] = sink.spans();
      // Finagle's Trace.id() inside its server: traceId:spanId:parentId:sampled
      expect(reply).toBe(`hello|${clientSpan.traceId}:${clientSpan.id}:${callerSpan.id}:true`);
      expect(clientSpan).toMatchObject({ kind: 'CLIENT', name: 'echo', remoteEndpoint: { serviceName: 'finagle', port: finaglePort } });
    } finally {
      connection.destroy();
      await tracing.shutdown();
    }
  });

  it('our client with upgrade off still talks plain Thrift to Finagle', async () => {
    const { tracing } = memoryTracing('node-plain');
    const connection = createTTwitterConnection(tracing, '127.0.0.1', finaglePort, { upgrade: false });
    const client = thrift.createClient(EchoService, connection) as EchoClient;
    try {
      expect((await client.echo('plain')).startsWith('plain|')).toBe(true);
      expect(connection.upgraded).toBe(false);
    } finally {
      connection.destroy();
      await tracing.shutdown();
    }
  });

  it('Finagle client → our server: the upgrade is accepted and the server span joins Finagle’s span', async () => {
    const { tracing, sink } = memoryTracing('node-server');
    const server: net.Server = createTTwitterServer(tracing, EchoService, {
      echo: async (msg: string) => {
        const span = trace.getActiveSpan() as Span;
        return `${msg}|${span.spanContext().spanId}`;
      },
      fire: () => undefined,
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const { stdout } = await run('java', ['-cp', classpath, 'FinaglePeer', 'client', String(port), 'from-finagle'], { timeout: 60_000 });
      const serverSpan = sink.spans().find((s) => s.kind === 'SERVER')!;
      expect(stdout.trim().split('\n').pop()).toBe(`reply from-finagle|${serverSpan.id}`);
      expect(serverSpan).toMatchObject({ name: 'echo', shared: true, remoteEndpoint: { ipv4: '127.0.0.1' } });
      expect(serverSpan.tags?.['srv/thrift/ttwitter']).toBeUndefined(); // upgraded: the header was read
      expect(serverSpan.traceId).toMatch(/^[0-9a-f]{16}$/);
    } finally {
      server.close();
      await tracing.shutdown();
    }
  });
});
