/**
 * `--memory-budget-mb` as a user gets it: `pintrace agent` and `pintrace collector` restart
 * themselves once at start-up, in the same pid, with V8's young generation and glibc's arenas
 * sized to the budget (runtime/src/memory-budget.ts); 0 runs them as started. Read from /proc, as
 * an operator would check it. Neither needs its servers for this: they start against closed ports
 * and keep retrying.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './support/servers.js';

const cli = fileURLToPath(new URL('../cli/bin/pintrace.js', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function start(part: 'agent' | 'collector', extra: string[]): ChildProcess {
  const dir = mkdtempSync(path.join(tmpdir(), `pintrace-budget-${part}-`));
  const args =
    part === 'agent'
      ? ['agent', '--kafka', '127.0.0.1:1', '--spans-dir', dir, '--metrics-port', '0']
      : ['collector', '--kafka', '127.0.0.1:1', '--es', 'http://127.0.0.1:1', '--metrics-port', '0'];
  const env: NodeJS.ProcessEnv = { ...process.env, PINTRACE_LOG_LEVEL: 'error' };
  for (const k of Object.keys(env)) if (k.endsWith('_MEMORY_BUDGET_APPLIED') || k === 'MALLOC_ARENA_MAX') delete env[k];
  const child = spawn(process.execPath, [cli, ...args, ...extra], { stdio: 'ignore', env });
  children.push(child);
  return child;
}

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');

describe.each(['agent', 'collector'] as const)('pintrace %s --memory-budget-mb', (part) => {
  it('256 (the default): the same pid runs again with an 8 MB semi-space and two malloc arenas', async () => {
    const child = start(part, []);
    const args = await eventually(async () => (cmdline(child.pid!).includes('--max-semi-space-size=8') ? cmdline(child.pid!) : undefined), {
      what: `${part} restarted within its budget`,
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    expect(args).toContain(cli);
    expect(args).toContain(part);
    const env = environ(child.pid!);
    expect(env).toContain('MALLOC_ARENA_MAX=2');
    expect(env).toContain(`PINTRACE_${part.toUpperCase()}_MEMORY_BUDGET_APPLIED=256`);
    // still running, not in a restart loop: the flag is there once
    await new Promise((r) => setTimeout(r, 1000));
    expect(child.exitCode).toBeNull();
    expect(cmdline(child.pid!).filter((a) => a.startsWith('--max-semi-space-size'))).toEqual(['--max-semi-space-size=8']);
  });

  it('0: runs as started', async () => {
    const child = start(part, ['--memory-budget-mb', '0']);
    // long enough for a restart to have happened: the part is up and retrying its servers
    await new Promise((r) => setTimeout(r, 3000));
    expect(child.exitCode).toBeNull();
    expect(cmdline(child.pid!).some((a) => a.startsWith('--max-semi-space-size'))).toBe(false);
    expect(environ(child.pid!)).not.toContain('MALLOC_ARENA_MAX=2');
  });
});
