/**
 * A part asked to stop while it is still starting (a deploy that rolls back at once, a supervisor
 * that restarts a slow start) stops gracefully: its signal handlers are installed before the start,
 * the stop waits for the start, and the process exits 0. Node's default action had ended it by the
 * signal, half started, when the signal came between its first log line and the end of its start.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentArgs } from './support/part-args.js';
import { freePort } from './support/ports.js';
import { startPart, type RunningPart } from './support/processes.js';
import { eventually, kafkaBrokers, uniqueName } from './support/servers.js';

const parts: RunningPart[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const part of parts) await part.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('a part stopped while it starts', () => {
  it('the agent, sent SIGTERM right after its first log line, stops gracefully and exits 0', async () => {
    const spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-part-signals-'));
    dirs.push(spansDir);
    const args = agentArgs({ kafka: kafkaBrokers.join(','), topic: uniqueName('part-signals'), spansDir, metricsPort: await freePort() });
    const agent = startPart('part-signals-agent', args);
    parts.push(agent);
    // its first line is logged as its start begins: the start (Kafka, the decider, the streams)
    // takes longer than this test's reaction to it
    await eventually(async () => (statSync(agent.logFile, { throwIfNoEntry: false })?.size ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 5,
      what: "the agent's first log line",
    });
    expect(await agent.stop()).toBe(0);
    const log = readFileSync(agent.logFile, 'utf8');
    expect(log).toContain('shutting down: stop intake, drain, commit, close');
    expect(log).toContain('logger agent stopped');
  });
});
