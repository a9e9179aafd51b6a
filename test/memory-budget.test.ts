/**
 * `--memory-budget-mb` as a user gets it: `pintrace collector` (and `pintrace agent` with its
 * intake, or with a budget given) restart themselves once at start-up, in the same pid, with V8's
 * young generation (a semi-space of a 32nd of the budget, the agent's a 16th) and glibc's arenas
 * sized to the budget (runtime/src/memory-budget.ts); 0 runs them as started. Read from /proc, as an operator would check it. Neither needs its servers for
 * this: they start against closed ports and keep retrying.
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
  // what the runner's own environment may hold must not decide what is tested
  for (const k of Object.keys(env)) if (/_MEMORY_BUDGET_(APPLIED|MB)$|^MALLOC_ARENA_MAX$|^PINTRACE_AGENT_INTAKE$/.test(k)) delete env[k];
  const child = spawn(process.execPath, [cli, ...args, ...extra], { stdio: 'ignore', env });
  children.push(child);
  return child;
}

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');

async function restartedWithin(child: ChildProcess, part: 'agent' | 'collector', mb: number): Promise<void> {
  // the agent's intake keeps its batches across a Kafka delivery: a younger generation twice as large
  const semiSpace = `--max-semi-space-size=${part === 'agent' ? mb / 16 : mb / 32}`;
  const args = await eventually(async () => (cmdline(child.pid!).includes(semiSpace) ? cmdline(child.pid!) : undefined), {
    what: `${part} restarted within its budget`,
    timeoutMs: 20_000,
    intervalMs: 50,
  });
  expect(args).toContain(cli);
  expect(args).toContain(part);
  const env = environ(child.pid!);
  expect(env).toContain('MALLOC_ARENA_MAX=2');
  expect(env).toContain(`PINTRACE_${part.toUpperCase()}_MEMORY_BUDGET_APPLIED=${mb}`);
  // still running, not in a restart loop: the flag is there once
  await new Promise((r) => setTimeout(r, 1000));
  expect(child.exitCode).toBeNull();
  expect(cmdline(child.pid!).filter((a) => a.startsWith('--max-semi-space-size'))).toEqual([semiSpace]);
}

/** Long enough for a restart to have happened: the part is up and retrying its servers. */
async function ranAsStarted(child: ChildProcess): Promise<void> {
  await new Promise((r) => setTimeout(r, 3000));
  expect(child.exitCode).toBeNull();
  expect(cmdline(child.pid!).some((a) => a.startsWith('--max-semi-space-size'))).toBe(false);
  expect(environ(child.pid!)).not.toContain('MALLOC_ARENA_MAX=2');
}

describe('pintrace collector --memory-budget-mb', () => {
  it('256 (the default): the same pid runs again with an 8 MB semi-space and two malloc arenas', async () => {
    await restartedWithin(start('collector', []), 'collector', 256);
  });

  it('0: runs as started', async () => {
    await ranAsStarted(start('collector', ['--memory-budget-mb', '0']));
  });
});

describe('pintrace agent --memory-budget-mb', () => {
  const intake = ['--intake', 'true', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--zipkin-port', '0'];

  it('unset with its intake on: 256, a 16 MB semi-space and two malloc arenas in the same pid', async () => {
    await restartedWithin(start('agent', intake), 'agent', 256);
  });

  it('unset without its intake: runs as started (the file-tailing agent has no budget by default)', async () => {
    await ranAsStarted(start('agent', []));
  });

  it('given: applies without the intake too, and 0 turns it off with the intake', async () => {
    await restartedWithin(start('agent', ['--memory-budget-mb', '128']), 'agent', 128);
    await ranAsStarted(start('agent', [...intake, '--memory-budget-mb', '0']));
  });
});
