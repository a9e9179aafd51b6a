/**
 * Acceptance (issue 18, item 4): instrumentations from the OpenTelemetry ecosystem report through
 * us. An Express service querying a real PostgreSQL, instrumented with
 * @opentelemetry/instrumentation-express and -pg and started with
 * `node --import @pintrace/tracer/register`: the express and pg spans are children of our HTTP
 * server span, and the server span is named after the route Express matched.
 * Run alone: npx vitest run --project integration test/tracer-otel-instrumentations.test.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSpanFiles, type SpanLine } from './support/installed-tracer.js';
import { startPostgres, type Postgres } from './support/postgres.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

describe('OTel instrumentations (express, pg) through our provider', () => {
  let postgres: Postgres;
  beforeAll(async () => {
    postgres = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await postgres?.stop();
  });

  it('a request to an Express route querying PostgreSQL: one trace, express and pg spans under our server span, named after http.route', async () => {
    const spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-otel-instr-'));
    const app = spawn(
      process.execPath,
      ['--import', path.join(repoRoot, 'tracer', 'dist', 'register.js'), path.join(repoRoot, 'test', 'fixtures', 'otel-ecosystem', 'app.cjs')],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', OTEL_SERVICE_NAME: 'shop-api', PINTRACE_SPANS_DIR: spansDir, PG_URL: postgres.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    app.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<[number | null, string | null]>((resolve) => app.on('exit', (code, signal) => resolve([code, signal])));
    const port = await new Promise<number>((resolve, reject) => {
      app.stdout.on('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { port: number }).port));
      void exited.then(() => reject(new Error(`app exited: ${stderr}`)));
    });

    const res = await fetch(`http://127.0.0.1:${port}/users/42?full=1`);
    expect(await res.json()).toEqual({ id: 42, db: 'postgres' });
    app.kill('SIGTERM'); // no handler of its own: register writes the spans, then the signal ends it
    expect(await exited).toEqual([null, 'SIGTERM']);
    expect(stderr).toBe('');

    const spans = readSpanFiles(spansDir);
    const server = spans.find((s) => s.kind === 'SERVER');
    expect(server).toMatchObject({
      name: 'get /users/:id',
      localEndpoint: { serviceName: 'shop-api' },
      tags: { 'http.route': '/users/:id', 'http.path': '/users/42', 'http.method': 'GET', 'http.status_code': '200' },
    });
    expect(server!.parentId).toBeUndefined();

    const byId = new Map(spans.map((s) => [s.id, s]));
    /** The chain of parents of a span up to the root. */
    const ancestors = (s: SpanLine): string[] => {
      const out: string[] = [];
      for (let p = s.parentId; p !== undefined; p = byId.get(p)?.parentId) out.push(p);
      return out;
    };
    const handler = spans.find((s) => s.name === 'request handler - /users/:id');
    expect(handler).toBeDefined();
    expect(handler!.parentId).toBe(server!.id);
    expect(handler!.tags).toMatchObject({ 'http.route': '/users/:id', 'express.type': 'request_handler' });
    const middleware = spans.filter((s) => s.name?.startsWith('middleware - '));
    expect(middleware.length).toBeGreaterThan(0);
    for (const m of middleware) expect(m.parentId).toBe(server!.id);

    const query = spans.find((s) => s.kind === 'CLIENT' && s.tags?.['db.system'] === 'postgresql' && s.tags?.['db.statement']?.startsWith('SELECT'));
    expect(query).toBeDefined();
    expect(query!.tags!['db.statement']).toBe('SELECT $1::int AS id, current_database() AS db');
    expect(ancestors(query!)).toContain(server!.id);
    // every span of the process belongs to this one request's trace, under the server span
    for (const s of spans) {
      expect(s.traceId).toBe(server!.traceId);
      if (s !== server) expect(ancestors(s)).toContain(server!.id);
    }
  }, 120_000);
});
