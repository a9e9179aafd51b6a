import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Lays out `<project>/node_modules/@pintrace/{tracer,model,sampler}` from the built workspaces the
 * way npm installs them: package.json plus dist, each a real directory (a symlink would make Node
 * resolve the tracer's imports from the repository's node_modules instead of the project's).
 * Nothing else of the repository is visible to the project.
 */
export function installBuiltTracer(project: string): void {
  for (const name of ['tracer', 'model', 'sampler']) {
    const to = path.join(project, 'node_modules', '@pintrace', name);
    mkdirSync(to, { recursive: true });
    cpSync(path.join(repoRoot, name, 'package.json'), path.join(to, 'package.json'));
    cpSync(path.join(repoRoot, name, 'dist'), path.join(to, 'dist'), { recursive: true });
  }
}

/** Copies an installed copy of `@opentelemetry/api` (e.g. the `@opentelemetry/api-1.10` alias) to `<dir>/node_modules/@opentelemetry/api`. */
export function installOtelApi(dir: string, alias: string): string {
  const from = path.join(repoRoot, 'node_modules', '@opentelemetry', alias);
  const to = path.join(dir, 'node_modules', '@opentelemetry', 'api');
  mkdirSync(path.dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true });
  return (JSON.parse(readFileSync(path.join(to, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Writes files (path relative to `dir` → content), creating directories. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` in `cwd` with exactly `env` added to PATH/HOME, and collects its output. */
export function runNode(args: string[], cwd: string, env: Record<string, string>, timeoutMs = 30_000): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      // Only what the test sets: an OTEL_* or PINTRACE_* variable of the test runner must not leak in.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface SpanLine {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

/** Every span in every span file (live and rotated) of a directory. */
export function readSpanFiles(dir: string): SpanLine[] {
  const spans: SpanLine[] = [];
  for (const name of readdirSync(dir)) {
    if (!/\.jsonl(\.\d+)?$/.test(name)) continue;
    for (const line of readFileSync(path.join(dir, name), 'utf8').split('\n')) if (line) spans.push(JSON.parse(line) as SpanLine);
  }
  return spans;
}
