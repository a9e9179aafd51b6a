#!/usr/bin/env node
/**
 * Scale-out and sizing measurements on the local devstack, regenerating docs/sizing.md and
 * docs/sizing.svg:
 *  - 1, 2 and 3 collector processes in one consumer group draining the same backlog from a
 *    6-partition topic into Elasticsearch (spans indexed per second, CPU per span, RSS);
 *  - a rebalance: one of two collectors killed with SIGKILL mid-drain and replaced (the stall it
 *    causes, and the loss, which must be zero);
 *  - the agent tailing a span file into Kafka (lines per second per core);
 *  - Elasticsearch CPU per indexed span (from the collector runs).
 *
 *   npm run build && npx pintrace devstack up && node bench/scale/run.mjs [--spans 120000]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdmin, createProducer } from '@pintrace/kafka';
import { barChart } from '../lib/svg-chart.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = path.join(root, 'cli', 'bin', 'pintrace.js');
const brokers = (process.env.PINTRACE_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const es = process.env.PINTRACE_ES_URL ?? 'http://127.0.0.1:9200';
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SPANS = arg('spans', 120_000);
const AGENT_LINES = arg('agent-lines', 200_000);
const PARTITIONS = 6;
const run = randomBytes(3).toString('hex');
const hex = (n) => randomBytes(n).toString('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (s) => process.stderr.write(`${s}\n`);
const TICK = 100; // clock ticks per second in /proc/<pid>/stat
let lastLine = 0;
/** Progress on one line on a terminal; a line every 5 s otherwise (CI logs, pipes). */
function progress(text, done = false) {
  if (process.stderr.isTTY) process.stderr.write(`\r${text}   ${done ? '\n' : ''}`);
  else if (done || Date.now() - lastLine > 5000) {
    lastLine = Date.now();
    process.stderr.write(`${text}\n`);
  }
}

function trace(now) {
  const traceId = hex(16);
  const root = hex(8);
  const client = hex(8);
  const base = { traceId, timestamp: now, localEndpoint: { serviceName: 'api', ipv4: '10.1.2.3' } };
  return [
    { ...base, id: root, kind: 'SERVER', name: 'get /v3/pins/{id}', duration: 40_000, tags: { 'http.method': 'GET', 'http.path': '/v3/pins/1/' } },
    {
      ...base,
      parentId: root,
      id: client,
      kind: 'CLIENT',
      name: 'getpin',
      duration: 20_000,
      remoteEndpoint: { serviceName: 'pinservice', ipv4: '10.1.2.9', port: 9090 },
    },
    {
      ...base,
      parentId: root,
      id: client,
      kind: 'SERVER',
      name: 'getpin',
      duration: 18_000,
      shared: true,
      localEndpoint: { serviceName: 'pinservice', ipv4: '10.1.2.9' },
    },
    {
      ...base,
      parentId: client,
      id: hex(8),
      kind: 'CLIENT',
      name: 'get',
      duration: 900,
      localEndpoint: { serviceName: 'pinservice', ipv4: '10.1.2.9' },
      remoteEndpoint: { serviceName: 'memcache', port: 11211 },
      tags: { 'memcache.hit': 'true' },
    },
  ];
}

/** CPU seconds (user + system) and RSS of a process, from /proc. */
function usage(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / TICK;
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    return { cpu, rss };
  } catch {
    return { cpu: 0, rss: 0 };
  }
}

function devstackPid(server) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (
        readFileSync(`/proc/${entry}/cmdline`, 'utf8')
          .split('\0')
          .some((a) => a.startsWith('-Dpintrace.devstack=') && a.endsWith(`#${server}`))
      )
        return Number(entry);
    } catch {}
  }
  return undefined;
}

async function count(prefix) {
  await fetch(`${es}/${prefix}-span-*/_refresh?allow_no_indices=true`, { method: 'POST' });
  const res = await fetch(`${es}/${prefix}-span-*/_count?allow_no_indices=true`);
  return res.ok ? (await res.json()).count : 0;
}

async function dropIndices(prefix) {
  const res = await fetch(`${es}/_cat/indices/${prefix}-*?h=index&format=json`);
  for (const { index } of res.ok ? await res.json() : []) await fetch(`${es}/${index}`, { method: 'DELETE' });
}

function startCollector(topic, group, prefix) {
  const child = spawn(
    process.execPath,
    [bin, 'collector', '--topic', topic, '--group-id', group, '--index-prefix', prefix, '--index-replicas', '0', '--metrics-port', '0'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, PINTRACE_LOG_LEVEL: 'warn' },
    },
  );
  return child;
}

async function produceBacklog(topic) {
  const admin = createAdmin(brokers);
  await admin.ensureTopic(topic, PARTITIONS);
  await admin.close();
  const producer = createProducer({ brokers });
  await producer.connect();
  const now = Date.now() * 1000;
  const traces = SPANS / 4;
  for (let i = 0; i < traces; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(traces, i + 500); j++) {
      const t = trace(now + j);
      batch.push({ key: t[0].traceId, value: JSON.stringify(t) });
    }
    await producer.send(topic, batch);
  }
  await producer.disconnect();
}

/** Drains the backlog with `n` collectors; `onProgress` may kill/replace processes mid-way. */
async function drain(topic, n, { onProgress } = {}) {
  const group = `scale-g${n}-${run}-${hex(2)}`;
  const prefix = `scale${n}${run}${hex(2)}`;
  const esPid = devstackPid('elasticsearch');
  const esBefore = usage(esPid);
  let children = Array.from({ length: n }, () => startCollector(topic, group, prefix));
  const cpuDone = [];
  const t0 = Date.now();
  const samples = [];
  let maxRss = 0;
  let last = -1;
  let lastChange = Date.now();
  let maxStall = 0;
  for (;;) {
    await sleep(250);
    const c = await count(prefix);
    const now = Date.now();
    samples.push({ t: now - t0, count: c });
    for (const ch of children) maxRss = Math.max(maxRss, usage(ch.pid).rss);
    if (c !== last) {
      if (last > 0) maxStall = Math.max(maxStall, now - lastChange);
      lastChange = now;
      last = c;
    }
    if (onProgress) {
      const replaced = await onProgress(c / SPANS, children, () => startCollector(topic, group, prefix));
      if (replaced) {
        cpuDone.push(replaced.cpu);
        children = replaced.children;
      }
    }
    const finished = c >= SPANS || now - t0 > 600_000;
    progress(`  ${n} collector(s): ${c.toLocaleString('en')} / ${SPANS.toLocaleString('en')} spans indexed (${((now - t0) / 1000).toFixed(1)}s)`, finished);
    if (finished) break;
  }
  await sleep(1500);
  const final = await count(prefix);
  const cpu = children.reduce((s, ch) => s + usage(ch.pid).cpu, 0) + cpuDone.reduce((a, b) => a + b, 0);
  const esCpu = usage(esPid).cpu - esBefore.cpu;
  for (const ch of children) ch.kill('SIGTERM');
  await Promise.all(children.map((ch) => new Promise((r) => (ch.exitCode !== null ? r() : ch.once('exit', r)))));
  await dropIndices(prefix);
  const first = samples.find((s) => s.count > 0)?.t ?? 0;
  const at = (f) => samples.find((s) => s.count >= f * SPANS)?.t ?? samples.at(-1).t;
  const seconds = (samples.at(-1).t - first) / 1000;
  return {
    collectors: n,
    spans: SPANS,
    indexed: final,
    lost: SPANS - final,
    secondsToDrain: +(samples.at(-1).t / 1000).toFixed(2),
    spansPerSecond: Math.round(SPANS / seconds),
    steadySpansPerSecond: Math.round((0.8 * SPANS) / ((at(0.9) - at(0.1)) / 1000)),
    collectorCpuSeconds: +cpu.toFixed(2),
    spansPerCollectorCoreSecond: Math.round(SPANS / cpu),
    esCpuSeconds: +esCpu.toFixed(2),
    spansPerEsCoreSecond: Math.round(SPANS / esCpu),
    maxCollectorRssMB: Math.round(maxRss / 1e6),
    maxStallMs: maxStall,
  };
}

async function agentRate() {
  const spansDir = mkdtempSync(path.join(os.tmpdir(), 'scale-agent-'));
  const file = path.join(spansDir, 'api.jsonl');
  const now = Date.now() * 1000;
  const lines = [];
  for (let i = 0; i < AGENT_LINES / 4; i++) for (const s of trace(now + i)) lines.push(JSON.stringify(s));
  appendFileSync(file, lines.join('\n') + '\n');
  const bytes = Buffer.byteLength(lines.join('\n')) + 1;
  const topic = `scale-agent-${run}`;
  const port = 19000 + Math.floor(Math.random() * 1000);
  const t0 = Date.now();
  const child = spawn(process.execPath, [bin, 'agent', '--topic', topic, '--spans-dir', spansDir, '--metrics-port', String(port)], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PINTRACE_LOG_LEVEL: 'warn' },
  });
  let shipped = 0;
  while (shipped < AGENT_LINES && Date.now() - t0 < 300_000) {
    await sleep(200);
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      shipped = [...text.matchAll(/^pintrace_agent_lines_total\{[^}]*\} (\S+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
    } catch {}
    progress(`  agent: ${shipped.toLocaleString('en')} / ${AGENT_LINES.toLocaleString('en')} lines acknowledged`, shipped >= AGENT_LINES);
  }
  const seconds = (Date.now() - t0) / 1000;
  const { cpu, rss } = usage(child.pid);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return {
    lines: AGENT_LINES,
    shipped,
    megabytes: +(bytes / 1e6).toFixed(1),
    seconds: +seconds.toFixed(2),
    linesPerSecond: Math.round(shipped / seconds),
    cpuSeconds: +cpu.toFixed(2),
    linesPerCoreSecond: Math.round(shipped / cpu),
    rssMB: Math.round(rss / 1e6),
  };
}

const results = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGB: Math.round(os.totalmem() / 2 ** 30) },
  spans: SPANS,
  partitions: PARTITIONS,
  runs: [],
};
const topic = `scale-${run}`;
say(`producing ${SPANS.toLocaleString('en')} spans (${SPANS / 4} traces) onto ${topic} (${PARTITIONS} partitions)…`);
await produceBacklog(topic);
for (const n of [1, 2, 3]) results.runs.push(await drain(topic, n));

say('rebalance: 2 collectors, one killed with SIGKILL at 30 % and replaced…');
let killed = false;
results.rebalance = await drain(topic, 2, {
  onProgress: async (fraction, children, start) => {
    if (killed || fraction < 0.3) return undefined;
    killed = true;
    const victim = children[0];
    const cpu = usage(victim.pid).cpu;
    victim.kill('SIGKILL');
    return { cpu, children: [children[1], start()] };
  },
});
say('agent: tailing one span file into Kafka…');
results.agent = await agentRate();
writeFileSync(new URL('results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');

const svg = barChart({
  title: `Spans indexed per second (${SPANS.toLocaleString('en')}-span backlog, ${PARTITIONS} partitions, ${results.machine.cpus} cores)`,
  unit: 'spans / s',
  groups: results.runs.map((r) => ({
    label: `${r.collectors} collector${r.collectors > 1 ? 's' : ''}`,
    bars: [
      { label: 'spans/s (whole drain)', value: r.spansPerSecond },
      { label: 'spans/s (10–90 %)', value: r.steadySpansPerSecond },
      { label: 'spans per collector CPU-s', value: r.spansPerCollectorCoreSecond },
    ],
  })),
});
writeFileSync(path.join(root, 'docs', 'sizing.svg'), svg);
const { renderSizing } = await import('./sizing-doc.mjs');
writeFileSync(path.join(root, 'docs', 'sizing.md'), renderSizing(results));
say(`wrote bench/scale/results.json, docs/sizing.md, docs/sizing.svg`);
console.log(JSON.stringify(results, null, 2));
