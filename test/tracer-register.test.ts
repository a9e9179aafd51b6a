import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { installBuiltTracer, installOtelApi, readSpanFiles, runNode, writeFiles } from './support/installed-tracer.js';

/**
 * Acceptance (issue 18, item 3): `node --import @pintrace/tracer/register app` traces an ESM and a
 * CommonJS application configured by the environment alone. The project is laid out as npm
 * installs it (built tracer, the application's own @opentelemetry/api), so the `./register`
 * export of the package is what resolves.
 */
describe('zero-code start: node --import @pintrace/tracer/register', () => {
  let project: string;

  /** One HTTP request to a server of the same process; `keepAlive` leaves the server up after it. */
  const app = (kind: 'esm' | 'cjs', keepAlive: boolean) => {
    const imports = kind === 'esm' ? `import http from 'node:http';` : `const http = require('node:http');`;
    return `${imports}
      const server = http.createServer((req, res) => res.end('ok'));
      server.listen(0, '127.0.0.1', () => {
        http.get('http://127.0.0.1:' + server.address().port + '/cart/42?x=1', (res) => {
          res.resume();
          res.on('end', () => {
            console.log('done');
            if (!${keepAlive}) server.close();
          });
        });
      });
    `;
  };

  beforeAll(() => {
    project = mkdtempSync(path.join(tmpdir(), 'pintrace-register-'));
    installBuiltTracer(project);
    installOtelApi(project, 'api-1.10');
    writeFiles(project, {
      'package.json': JSON.stringify({ name: 'app', version: '1.0.0' }),
      'app.mjs': app('esm', false),
      'app.cjs': app('cjs', false),
      'server.mjs': app('esm', true),
      // an application that handles SIGTERM itself: it closes its server and ends on its own
      'graceful.mjs': `${app('esm', true)}
        process.on('SIGTERM', () => { console.log('draining'); setTimeout(() => server.close(), 100); });
      `,
    });
  });

  function envFor(spansDir: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      OTEL_SERVICE_NAME: 'Zero-Code',
      OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=shop,deployment.environment=test%20env',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '1',
      OTEL_PROPAGATORS: 'tracecontext',
      PINTRACE_SPANS_DIR: spansDir,
      ...extra,
    };
  }

  function expectRequestTraced(spansDir: string): void {
    const spans = readSpanFiles(spansDir);
    const server = spans.find((s) => s.kind === 'SERVER');
    const client = spans.find((s) => s.kind === 'CLIENT');
    expect(server).toBeDefined();
    expect(client).toBeDefined();
    expect(server!.localEndpoint?.serviceName).toBe('zero-code');
    expect(server!.tags).toMatchObject({
      'http.path': '/cart/42',
      'service.name': 'Zero-Code',
      'service.namespace': 'shop',
      'deployment.environment': 'test env',
    });
    // OTEL_PROPAGATORS=tracecontext: the server continued the client's trace from traceparent alone
    expect(server!.traceId).toBe(client!.traceId);
    expect(server!.parentId).toBe(client!.id);
  }

  it.each(['app.mjs', 'app.cjs'])('%s: the request is traced under the service name of the environment', async (file) => {
    const spansDir = path.join(project, `spans-${file}`);
    const result = await runNode(['--import', '@pintrace/tracer/register', file], project, envFor(spansDir));
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('done');
    expect(result.code).toBe(0);
    expectRequestTraced(spansDir);
  });

  it('SIGTERM to an application without its own handler: the queued spans are written, then the process ends by the signal', async () => {
    const spansDir = path.join(project, 'spans-sigterm');
    mkdirSync(spansDir);
    const child = spawn(process.execPath, ['--import', '@pintrace/tracer/register', 'server.mjs'], {
      cwd: project,
      env: { PATH: process.env.PATH ?? '', ...envFor(spansDir) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('done') && resolve()));
    const exited = new Promise<[number | null, string | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
    child.kill('SIGTERM');
    expect(await exited).toEqual([null, 'SIGTERM']);
    expect(stderr).toBe('');
    expectRequestTraced(spansDir);
  });

  it('SIGTERM to an application with its own handler: its exit stays its own (not cut short), and the spans are written', async () => {
    const spansDir = path.join(project, 'spans-graceful');
    mkdirSync(spansDir);
    const child = spawn(process.execPath, ['--import', '@pintrace/tracer/register', 'graceful.mjs'], {
      cwd: project,
      env: { PATH: process.env.PATH ?? '', ...envFor(spansDir) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('done')) resolve();
      }),
    );
    const exited = new Promise<[number | null, string | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
    child.kill('SIGTERM');
    // the application's handler ran and the process ended by itself, after draining
    expect(await exited).toEqual([0, null]);
    expect(stdout).toContain('draining');
    expect(stderr).toBe('');
    expectRequestTraced(spansDir);
  });

  it('OTEL_SDK_DISABLED=true: the application runs untraced and no span file appears', async () => {
    const spansDir = path.join(project, 'spans-disabled');
    const result = await runNode(['--import', '@pintrace/tracer/register', 'app.mjs'], project, envFor(spansDir, { OTEL_SDK_DISABLED: 'true' }));
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('done');
    expect(existsSync(spansDir) ? readdirSync(spansDir) : []).toEqual([]);
  });

  it('a configuration the tracer cannot use stops the start with a message naming the variable', async () => {
    const spansDir = path.join(project, 'spans-bad');
    const result = await runNode(['--import', '@pintrace/tracer/register', 'app.mjs'], project, envFor(spansDir, { OTEL_TRACES_SAMPLER_ARG: '30' }));
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('TracingConfigError: OTEL_TRACES_SAMPLER_ARG: a ratio from 0 to 1');
  });
});
