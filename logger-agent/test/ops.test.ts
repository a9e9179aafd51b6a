import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../src/index.js';
import { FakeProducer } from './fake-producer.js';
import { config, lines, silent, tempDir, waitFor } from './helpers.js';

describe('operations endpoints', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let agent: Agent | undefined;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => {
    await agent?.shutdown();
    await cleanup();
  });

  it('serves /metrics with lines, bytes, messages, acks, lag and errors, and /health', async () => {
    await writeFile(path.join(dir, 'a.jsonl'), lines(0, 20));
    const producer = new FakeProducer();
    agent = await startAgent(config(dir, { metricsPort: '0' }), { producer, log: silent, backoff: { initialMs: 5, maxMs: 20 } });
    await waitFor(() => producer.ids().length === 20);
    const base = `http://127.0.0.1:${agent.opsPort}`;
    await waitFor(async () => (await (await fetch(`${base}/metrics`)).text()).includes('pintrace_agent_lag_bytes{stream="a.jsonl"} 0'));
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/pintrace_agent_lines_total\{stream="a.jsonl"\} 20/);
    expect(text).toMatch(/pintrace_agent_bytes_total\{stream="a.jsonl"\} \d+/);
    expect(text).toMatch(/pintrace_agent_kafka_messages_total\{topic="zipkin"\} \d+/);
    expect(text).toMatch(/pintrace_agent_kafka_acks_total\{topic="zipkin"\} \d+/);
    expect(text).toContain('pintrace_agent_errors_total');
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'UP', kafka: 'UP', streams: [{ stream: 'a.jsonl', lagBytes: 0 }] });

    producer.down = true;
    await writeFile(path.join(dir, 'a.jsonl'), lines(20, 30), { flag: 'a' });
    await waitFor(async () => (await fetch(`${base}/health`)).status === 503);
    // Lag is still reported while the stream is held.
    await waitFor(async () => (await agent!.metrics.value(agent!.metrics.lag, { stream: 'a.jsonl' })) > 0);
  });
});
