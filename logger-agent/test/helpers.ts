import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { createLogger, resolveConfig } from '@pintrace/runtime';
import { agentOptions, startAgent, type Agent, type AgentConfig } from '../src/index.js';
import { FakeProducer } from './fake-producer.js';

export const silent = createLogger('logger-agent-test', { level: process.env.PINTRACE_TEST_LOG ?? 'silent' });

/** A Zipkin v2 span line (with newline); the span id encodes n so order can be checked. */
export function spanLine(n: number, traceId = ((n % 7) + 1).toString(16).padStart(16, 'a')): string {
  const id = n.toString(16).padStart(16, '0');
  return (
    JSON.stringify({
      traceId,
      id,
      name: `op-${n}`,
      kind: 'SERVER',
      timestamp: 1_700_000_000_000_000 + n,
      duration: 10,
      localEndpoint: { serviceName: 'svc' },
    }) + '\n'
  );
}

export function ids(from: number, to: number): string[] {
  const out: string[] = [];
  for (let n = from; n < to; n++) out.push(n.toString(16).padStart(16, '0'));
  return out;
}

export function lines(from: number, to: number): string {
  let s = '';
  for (let n = from; n < to; n++) s += spanLine(n);
  return s;
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pintrace-agent-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function config(spansDir: string, overrides: Record<string, unknown> = {}): AgentConfig {
  return resolveConfig(agentOptions, { flags: { spansDir, metricsPort: '0', pollIntervalMs: '50', rotationGraceMs: '200', ...overrides }, env: {} });
}

export async function start(
  spansDir: string,
  producer = new FakeProducer(),
  overrides: Record<string, unknown> = {},
): Promise<{ agent: Agent; producer: FakeProducer }> {
  const agent = await startAgent(config(spansDir, overrides), { producer, log: silent, backoff: { initialMs: 5, maxMs: 20 }, opsServer: false });
  return { agent, producer };
}

export interface AgentSandbox {
  /** This test's spans directory. */
  readonly dir: string;
  /** Agents started by this test, shut down after it. */
  readonly agents: Agent[];
  /** An agent on `dir`, shut down after the test. */
  start(producer?: FakeProducer, overrides?: Record<string, unknown>): Promise<{ agent: Agent; producer: FakeProducer }>;
}

/** A fresh spans directory for each test of the enclosing describe; its agents are shut down and the directory removed after each test. */
export function agentSandbox(): AgentSandbox {
  let dir = '';
  let cleanup = async () => {};
  let agents: Agent[] = [];
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    agents = [];
  });
  afterEach(async () => {
    await Promise.all(agents.map((a) => a.shutdown()));
    await cleanup();
  });
  return {
    get dir() {
      return dir;
    },
    get agents() {
      return agents;
    },
    async start(producer, overrides) {
      const r = await start(dir, producer, overrides);
      agents.push(r.agent);
      return r;
    },
  };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
