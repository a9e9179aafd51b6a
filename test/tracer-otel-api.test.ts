import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installBuiltTracer, installOtelApi, readSpanFiles, runNode, writeFiles } from './support/installed-tracer.js';

/**
 * Acceptance (issue 18, item 2): libraries written against `@opentelemetry/api` 1.9 and 1.10, each
 * with its own copy of the API, report through our tracer in one process. The API's globals live
 * under one `Symbol.for('opentelemetry.js.api.1')` object stamped with the version of the copy that
 * registered first; another copy reads them only if its minor version is not above that stamp. So
 * the tracer must register through the newest copy in the process — the application's own, which a
 * peer dependency gives it — and never through a private older one.
 *
 * The project is built in a temp directory as npm lays it out, with the built tracer.
 */
describe('@opentelemetry/api 1.9 and 1.10 side by side', () => {
  /** A library that makes one span with the API copy it was installed with. */
  const library = (name: string, inner: string) => `
    const { context, trace } = require('@opentelemetry/api');
    // the copy this library resolved (1.10's exports map hides its package.json from require)
    const main = require.resolve('@opentelemetry/api');
    const root = main.slice(0, main.lastIndexOf('@opentelemetry/api') + '@opentelemetry/api'.length);
    exports.apiVersion = JSON.parse(require('node:fs').readFileSync(root + '/package.json', 'utf8')).version;
    exports.work = (fn) => trace.getTracer('${name}').startActiveSpan('${inner}', (span) => {
      try { return fn ? fn() : undefined; } finally { span.end(); }
    });
    // API 1.10's context.attach (absent in 1.9): the span is active until the token is disposed
    exports.attached = context.attach && ((fn) => {
      const span = trace.getTracer('${name}').startSpan('${inner}-attached');
      const token = context.attach(trace.setSpan(context.active(), span));
      try { return fn(); } finally { token.dispose(); span.end(); }
    });
  `;

  function project(topLevelApi: 'api-1.9' | 'api-1.10', tracerOwnApi?: 'api-1.9'): { dir: string; spansDir: string } {
    const dir = mkdtempSync(path.join(tmpdir(), 'pintrace-otel-api-'));
    installBuiltTracer(dir);
    installOtelApi(dir, topLevelApi);
    // The layout before the fix: the tracer's dependency `~1.9.1` installed inside the tracer.
    if (tracerOwnApi) installOtelApi(path.join(dir, 'node_modules', '@pintrace', 'tracer'), tracerOwnApi);
    for (const [lib, api] of [
      ['lib-old', 'api-1.9'],
      ['lib-new', 'api-1.10'],
    ] as const) {
      const libDir = path.join(dir, 'node_modules', lib);
      writeFiles(libDir, {
        'package.json': JSON.stringify({ name: lib, version: '1.0.0', main: 'index.cjs' }),
        'index.cjs': library(lib, `${lib}-op`),
      });
      installOtelApi(libDir, api);
    }
    const spansDir = path.join(dir, 'spans');
    mkdirSync(spansDir);
    writeFiles(dir, {
      'package.json': JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }),
      'app.mjs': `
        import { createRequire } from 'node:module';
        import { startTracing } from '@pintrace/tracer';
        const require = createRequire(import.meta.url);
        const tracing = startTracing({ serviceName: 'api-mix', spansDir: process.env.SPANS_DIR, sampleRate: 100 });
        const oldLib = require('lib-old');
        const newLib = require('lib-new');
        console.log(JSON.stringify({ old: oldLib.apiVersion, new: newLib.apiVersion }));
        // the 1.10 library's span is active while the 1.9 library makes its own: one trace across copies
        newLib.work(() => oldLib.work());
        oldLib.work(() => newLib.work());
        if (newLib.attached) newLib.attached(() => oldLib.work());
        await tracing.shutdown();
      `,
    });
    return { dir, spansDir };
  }

  async function run(p: { dir: string; spansDir: string }) {
    const result = await runNode(['app.mjs'], p.dir, { SPANS_DIR: p.spansDir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ old: '1.9.1', new: '1.10.0' });
    return readSpanFiles(p.spansDir);
  }

  it('the application on api 1.10: both libraries report, and their spans form one trace either way round', async () => {
    const spans = await run(project('api-1.10'));
    expect(spans.map((s) => s.name).sort()).toEqual(['lib-new-op', 'lib-new-op', 'lib-new-op-attached', 'lib-old-op', 'lib-old-op', 'lib-old-op']);
    expect(spans.every((s) => s.localEndpoint?.serviceName === 'api-mix')).toBe(true);
    const [oldChild, newParent, newChild, oldParent, oldUnderAttached, attached] = spans;
    expect(spans.map((s) => s.name)).toEqual(['lib-old-op', 'lib-new-op', 'lib-new-op', 'lib-old-op', 'lib-old-op', 'lib-new-op-attached']);
    // context.attach of API 1.10 reaches our context manager: the 1.9 library's span is its child
    expect(oldUnderAttached.parentId).toBe(attached.id);
    expect(oldChild.parentId).toBe(newParent.id);
    expect(oldChild.traceId).toBe(newParent.traceId);
    expect(newChild.parentId).toBe(oldParent.id);
    expect(newParent.parentId).toBeUndefined();
  });

  it('the layout before the fix (tracer on its own 1.9 copy) loses the 1.10 library: what the peer dependency prevents', async () => {
    const spans = await run(project('api-1.10', 'api-1.9'));
    // The 1.10 copy refuses the 1.9-stamped registry and falls back to its no-op: only 1.9 spans.
    expect(spans.map((s) => s.name)).toEqual(['lib-old-op', 'lib-old-op', 'lib-old-op']);
  });

  it('the tracer package declares the API as a peer dependency covering 1.9 and 1.10, and no copy of its own', () => {
    const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'tracer', 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    expect(pkg.dependencies?.['@opentelemetry/api']).toBeUndefined();
    expect(pkg.peerDependencies?.['@opentelemetry/api']).toBe('>=1.9.0 <1.11.0');
  });
});
