import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSpanFiles, runNode, writeFiles } from './support/installed-tracer.js';

/**
 * Acceptance (issue 18, item 6): what a user installs is publishable. Each published workspace is
 * packed with `npm pack` as `npm publish` would pack it, the tarballs are installed with the newest
 * `@opentelemetry/api` from the registry into an empty project outside the repository, and that
 * project traces an HTTP request and runs the `pintrace` command. Needs the build (`npm test` runs
 * `tsc -b` first) and the npm registry.
 */
const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);

/** What a user installs: the tracer and what it needs, the CLI and what it needs. */
const tracerSide = ['model', 'sampler', 'tracer'];
const cliSide = ['runtime', 'kafka', 'storage', 'logger-agent', 'collector', 'ui-proxy', 'cli'];
const published = [...tracerSide, ...cliSide];
/** Workspaces the CLI loads only when present (`up`, `demo`, `devstack`); never dependencies of it. */
const optionalForCli = ['@pintrace/demo', '@pintrace/devstack'];

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  description?: string;
  engines?: { node?: string };
  exports?: Record<string, string | { types?: string; default?: string }>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

interface Packed {
  workspace: string;
  manifest: Manifest;
  tarball: string;
  size: number;
  files: string[];
}

const manifestOf = (workspace: string) => JSON.parse(readFileSync(path.join(repoRoot, workspace, 'package.json'), 'utf8')) as Manifest;

/** Every `.js` file under dir, relative paths. */
function jsFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(full).isDirectory()) return jsFiles(full, rel);
    return name.endsWith('.js') ? [rel] : [];
  });
}

/** The package name of a bare specifier (`@scope/name/sub` → `@scope/name`), undefined for relative paths and node builtins. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtinModules.includes(name) ? undefined : name;
}

describe('installable packages (npm pack → npm install in an empty project)', () => {
  let work: string;
  let project: string;
  const packed = new Map<string, Packed>();

  beforeAll(async () => {
    for (const w of published) {
      if (!existsSync(path.join(repoRoot, w, 'dist'))) throw new Error(`${w}/dist is missing: build first (npm run build)`);
    }
    // Outside the repository, so nothing of it (its node_modules above all) can be resolved from the project.
    work = mkdtempSync(path.join(tmpdir(), 'pintrace-packages-'));
    const packDir = path.join(work, 'tarballs');
    project = path.join(work, 'app');
    writeFiles(work, { 'tarballs/.keep': '', 'app/package.json': JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }) });

    // One npm for all workspaces: each is packed as `npm publish` would pack it (its `files`, LICENSE, README).
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir, ...published.map((w) => `--workspace=${w}`)], {
      cwd: repoRoot,
      maxBuffer: 64 << 20,
    });
    const reports = JSON.parse(stdout) as { name: string; filename: string; size: number; files: { path: string }[] }[];
    for (const w of published) {
      const manifest = manifestOf(w);
      const report = reports.find((r) => r.name === manifest.name);
      if (!report) throw new Error(`npm pack gave no tarball for ${manifest.name}`);
      packed.set(w, { workspace: w, manifest, tarball: path.join(packDir, report.filename), size: report.size, files: report.files.map((f) => f.path) });
    }

    // --ignore-scripts: the optional librdkafka binding is not compiled (minutes); without it the
    // CLI's Kafka parts fall back to kafkajs, and the tracer needs no Kafka at all.
    await run(
      'npm',
      [
        'install',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...[...packed.values()].map((p) => p.tarball),
        '@opentelemetry/api@latest',
      ],
      { cwd: project, maxBuffer: 64 << 20, timeout: 150_000 },
    );
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('package.json of each published workspace', () => {
    it('is public, Apache-2.0, described, with Node engines', () => {
      for (const w of published) {
        const m = manifestOf(w);
        expect(m.private, w).toBeUndefined();
        expect(m.name, w).toMatch(/^@pintrace\//);
        expect(m.license, w).toBe('Apache-2.0');
        expect(m.description, w).toBeTruthy();
        expect(m.engines?.node, w).toBe('>=22');
      }
    });

    it('has one version for every workspace, and internal dependencies pinned to it', () => {
      const version = manifestOf('tracer').version;
      const all = [...published, 'demo', 'devstack'];
      for (const w of all) {
        const m = manifestOf(w);
        expect(m.version, w).toBe(version);
        for (const deps of [m.dependencies, m.peerDependencies, m.optionalDependencies]) {
          for (const [name, range] of Object.entries(deps ?? {})) if (name.startsWith('@pintrace/')) expect(range, `${w} → ${name}`).toBe(version);
        }
      }
      const root = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Manifest;
      expect(root.license).toBe('Apache-2.0');
    });

    it('does not depend on the demo or the devstack (the CLI loads them only when present)', () => {
      for (const w of published) {
        const m = manifestOf(w);
        for (const deps of [m.dependencies, m.peerDependencies, m.optionalDependencies]) {
          for (const name of optionalForCli) expect(Object.keys(deps ?? {}), w).not.toContain(name);
        }
      }
    });
  });

  describe('tarballs', () => {
    it('hold LICENSE (the repository root text), README, and no test, benchmark or fixture file', () => {
      const license = readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8');
      expect(license).toContain('Apache License');
      expect(license).toContain('Version 2.0, January 2004');
      for (const p of packed.values()) {
        expect(p.files, p.workspace).toContain('LICENSE');
        expect(p.files, p.workspace).toContain('README.md');
        expect(p.files, p.workspace).toContain('package.json');
        // npm packs the workspace's own LICENSE: it must be the root's text, not a drifted copy
        expect(readFileSync(path.join(repoRoot, p.workspace, 'LICENSE'), 'utf8'), p.workspace).toBe(license);
        const shipped = p.files.filter(
          (f) => /(^|\/)(test|tests|__tests__|bench|benchmarks?|fixtures?)\//.test(f) || /\.(test|spec|bench)\.[cm]?[jt]s$/.test(f) || /tsbuildinfo$/.test(f),
        );
        expect(shipped, p.workspace).toEqual([]);
        // only the build, its sources (for the source and declaration maps) and what a package declares
        const outside = p.files.filter((f) => !/^(dist|src|bin|wasm)\//.test(f) && !['package.json', 'README.md', 'LICENSE'].includes(f));
        expect(outside, p.workspace).toEqual([]);
      }
    });

    it('hold every file an `exports` entry names, with `types` for each code entry', () => {
      for (const p of packed.values()) {
        for (const [subpath, target] of Object.entries(p.manifest.exports ?? {})) {
          if (typeof target === 'string') {
            // only the manifest itself may be exported without types
            expect(subpath, p.workspace).toBe('./package.json');
            continue;
          }
          expect(target.types, `${p.workspace} ${subpath}`).toMatch(/\.d\.ts$/);
          expect(p.files, `${p.workspace} ${subpath}`).toContain(target.types!.replace(/^\.\//, ''));
          expect(p.files, `${p.workspace} ${subpath}`).toContain(target.default!.replace(/^\.\//, ''));
        }
      }
      const tracerExports = Object.keys(packed.get('tracer')!.manifest.exports ?? {});
      expect(tracerExports).toEqual(expect.arrayContaining(['.', './register']));
    });

    it('import only packages their manifest declares (the CLI: also the demo and the devstack, with import())', () => {
      for (const p of packed.values()) {
        const m = p.manifest;
        const declared = new Set([m.name, ...Object.keys({ ...m.dependencies, ...m.peerDependencies, ...m.optionalDependencies })]);
        const dist = path.join(repoRoot, p.workspace, 'dist');
        const undeclared = new Set<string>();
        for (const file of jsFiles(dist)) {
          const code = readFileSync(path.join(dist, file), 'utf8');
          for (const match of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bcreateRequire\([^)]*\)\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)) {
            const name = packageOf(match[1]!);
            // the CLI may load the optional parts, but only with import(), when a command runs
            const lazyOptional = p.workspace === 'cli' && optionalForCli.includes(name ?? '') && /^import\s*\(/.test(match[0]);
            if (name && !declared.has(name) && !lazyOptional) undeclared.add(`${name} (${file})`);
          }
        }
        expect([...undeclared], p.workspace).toEqual([]);
      }
    });
  });

  describe('installed in an empty project with @opentelemetry/api@latest', () => {
    it('installs the API from the registry within the tracer peer range, and nothing of the demo', async () => {
      const api = JSON.parse(readFileSync(path.join(project, 'node_modules/@opentelemetry/api/package.json'), 'utf8')) as { version: string };
      expect(api.version).toMatch(/^1\.(9|10)\./);
      // every package of the project's tree, by its path in node_modules
      const { stdout } = await run('npm', ['ls', '--all', '--parseable'], { cwd: project, maxBuffer: 64 << 20 });
      const installed = stdout
        .split('\n')
        .filter((line) => line.includes('node_modules/'))
        .map((p) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length));
      expect(installed).toEqual(expect.arrayContaining(['@pintrace/tracer', '@pintrace/cli', '@pintrace/logger-agent', 'kafkajs']));
      for (const heavy of ['thrift', 'memcache-client', ...optionalForCli])
        expect(
          installed.filter((n) => n === heavy || n.endsWith(`/${heavy}`)),
          heavy,
        ).toEqual([]);
    });

    it('traces an HTTP request with startTracing: the spans land in the span file', async () => {
      const spansDir = path.join(work, 'spans-start');
      writeFiles(project, {
        'app.mjs': `
          import http from 'node:http';
          import { startTracing } from '@pintrace/tracer';
          const tracing = startTracing({ serviceName: 'packed-app', spansDir: ${JSON.stringify(spansDir)}, sampleRate: 100 });
          const server = http.createServer((req, res) => res.end('ok'));
          server.listen(0, '127.0.0.1', () => {
            http.get('http://127.0.0.1:' + server.address().port + '/cart/7', (res) => {
              res.resume();
              res.on('end', async () => {
                server.close();
                await tracing.shutdown();
                console.log('done ' + res.statusCode);
              });
            });
          });
        `,
      });
      const r = await runNode(['app.mjs'], project, {});
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe('done 200');
      const spans = readSpanFiles(spansDir);
      const server = spans.find((s) => s.kind === 'SERVER');
      const client = spans.find((s) => s.kind === 'CLIENT');
      expect(server?.localEndpoint?.serviceName).toBe('packed-app');
      expect(server?.tags?.['http.path']).toBe('/cart/7');
      // the server joins the caller's B3 span (Zipkin's shared span): one RPC, one id, both sides
      expect(server?.traceId).toBe(client?.traceId);
      expect(server?.id).toBe(client?.id);
      expect((server as { shared?: boolean } | undefined)?.shared).toBe(true);
    });

    it('traces an HTTP request with node --import @pintrace/tracer/register, configured by env alone', async () => {
      const spansDir = path.join(work, 'spans-register');
      writeFiles(project, {
        'plain.mjs': `
          import http from 'node:http';
          const server = http.createServer((req, res) => res.end('ok'));
          server.listen(0, '127.0.0.1', () => {
            http.get('http://127.0.0.1:' + server.address().port + '/health', (res) => {
              res.resume();
              res.on('end', () => server.close());
            });
          });
        `,
      });
      const r = await runNode(['--import', '@pintrace/tracer/register', 'plain.mjs'], project, {
        OTEL_SERVICE_NAME: 'zero-code',
        PINTRACE_SPANS_DIR: spansDir,
      });
      expect(r.code, r.stderr).toBe(0);
      const spans = readSpanFiles(spansDir);
      expect(spans.find((s) => s.kind === 'SERVER')?.localEndpoint?.serviceName).toBe('zero-code');
      expect(spans.find((s) => s.kind === 'CLIENT')).toBeDefined();
    });

    it('resolves the types of both tracer entry points through `exports`', async () => {
      writeFiles(project, {
        'typed.ts': `
          import { startTracing, type Tracing } from '@pintrace/tracer';
          import { tracing as registered } from '@pintrace/tracer/register';
          const t: Tracing = startTracing({ serviceName: 'typed', spansDir: '/tmp' });
          const maybe: Tracing | undefined = registered;
          // @ts-expect-error: serviceName is required; a declaration that resolved to \`any\` would accept this
          startTracing({ spansDir: '/tmp' });
          void t; void maybe;
        `,
        'tsconfig.json': JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: ['node'],
            typeRoots: [path.join(repoRoot, 'node_modules/@types')],
          },
          files: ['typed.ts'],
        }),
      });
      const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
      const r = await runNode([tsc, '-p', 'tsconfig.json'], project, {});
      expect(r.stdout + r.stderr).toBe('');
      expect(r.code).toBe(0);
    });

    it('runs `npx pintrace --help`, and explains what to install for the demo', async () => {
      // --no: the installed bin or a failure, never a download of some registry package of that name
      const help = await run('npx', ['--no', '--', 'pintrace', '--help'], { cwd: project });
      for (const command of ['agent', 'collector', 'ui', 'decider', 'demo', 'up']) expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
      // a part's own options come from its installed package
      const agent = await run('npx', ['--no', '--', 'pintrace', 'agent', '--help'], { cwd: project });
      expect(agent.stdout).toContain('--spans-dir');

      const demo = await run('npx', ['--no', '--', 'pintrace', 'demo', '--rps', '1'], { cwd: project }).then(
        () => undefined,
        (err: { code?: number; stderr?: string }) => err,
      );
      expect(demo?.code).toBe(1);
      expect(demo?.stderr).toContain('`pintrace demo` needs @pintrace/demo, which is not installed');
      const up = await run('npx', ['--no', '--', 'pintrace', 'up'], { cwd: project }).then(
        () => undefined,
        (err: { code?: number; stderr?: string }) => err,
      );
      expect(up?.code).toBe(1);
      expect(up?.stderr).toContain('`pintrace up` needs @pintrace/demo and @pintrace/devstack');
    });
  });

  it('reports the tarballs (name, packed size)', () => {
    // Sizes go to the log for the report; a package growing past 1 MiB packed is a shipping mistake.
    for (const p of packed.values()) {
      process.stdout.write(`${p.manifest.name}@${p.manifest.version} ${(p.size / 1024).toFixed(1)} KiB, ${p.files.length} files\n`);
      expect(p.size, p.workspace).toBeLessThan(1 << 20);
    }
  });
});
