#!/usr/bin/env node
/**
 * The agent's hot path in one process, for profiling: the bench's span lines (default 128,918)
 * in one file, startAgent() in-process against the broker, timed from start to the last ack.
 *
 *   npx tsc -b && node --cpu-prof --cpu-prof-dir=/tmp/prof bench/agent/profile.mjs [--compression snappy] [--client kafkajs]
 *
 * Prints wall ms, CPU ms and lines per CPU-second; open the .cpuprofile in Chrome DevTools.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAdmin, createProducer } from '@pintrace/kafka';
import { agentOptions, startAgent } from '@pintrace/logger-agent';
import { createLogger, resolveConfig } from '@pintrace/runtime';
import { spanLines } from './span-lines.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const lines = Number(args.lines ?? 128_918);
const compression = args.compression ?? 'snappy';
const client = args.client ?? 'kafkajs';
const brokers = (process.env.PINTRACE_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const dir = mkdtempSync(path.join(tmpdir(), 'agent-profile-'));
writeFileSync(path.join(dir, 'svc.jsonl'), spanLines(lines));
const topic = `agent-profile-${Date.now().toString(36)}`;
const admin = createAdmin(brokers);
await admin.ensureTopic(topic, 4);
await admin.close();
const config = resolveConfig(agentOptions, {
  flags: {
    kafka: brokers.join(','),
    topic,
    spansDir: dir,
    metricsPort: '0',
    compression,
    ...(args['batch-bytes'] ? { batchBytes: args['batch-bytes'] } : {}),
    ...(args['batch-lines'] ? { batchLines: args['batch-lines'] } : {}),
  },
  env: {},
});
const producer = createProducer({ brokers, client, compression });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const agent = await startAgent(config, { producer, log: createLogger('agent', { level: 'warn' }), opsServer: false });
while ((await agent.metrics.value(agent.metrics.lines)) < lines) await new Promise((r) => setTimeout(r, 10));
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(
  JSON.stringify({
    lines,
    compression,
    client,
    wallMs: Math.round(ms),
    cpuMs: Math.round(cpuMs),
    linesPerCpuSec: Math.round(lines / (cpuMs / 1000)),
    messages: await agent.metrics.value(agent.metrics.messages),
    rssMb: Math.round(process.memoryUsage().rss / 1e6),
  }),
);
await agent.shutdown();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
