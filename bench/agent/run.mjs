#!/usr/bin/env node
/**
 * File → Kafka, side by side in one run: our logger agent, rsyslog (imfile + omkafka) and kcat.
 * Each run writes the same span lines (default 128,918 lines, ~38 MB, as in
 * shared/reference/devstack-facts.md §6) into a fresh, empty, already-tailed file in one append,
 * then waits until every line is acknowledged by the same broker, each tool into its own new topic
 * (4 partitions). The clock starts when the append has returned (kcat's file is complete before
 * its clock starts too); the tool's CPU is counted from before it. kcat `-P -l` reads the
 * finished file and is the raw ceiling (not tailing).
 * CPU is read from /proc (utime+stime of the process and its threads; for kcat from bash's `times`),
 * so "lines per second per core" = lines / CPU seconds. Runs alternate between the tools.
 *
 *   node bench/agent/run.mjs --plot-only   (redraws results.svg from results.json)
 *   npx tsc -b && node bench/agent/run.mjs [--runs 3] [--lines 128918] [--tools agent,agent-warm,agent-none,agent-kafkajs,rsyslog,rsyslog-warm,kcat]
 *
 * agent = `pintrace agent` as shipped (librdkafka producer, snappy); agent-none = no compression;
 * agent-kafkajs = PINTRACE_KAFKA_CLIENT=kafkajs, snappy (@platformatic/kafka was removed, docs/decisions.md D6).
 * agent-warm / rsyslog-warm = the same tool, already running for a while: it first ships the same
 * lines once (not measured), then the measured append follows. A host's agent runs for days, so
 * this is its steady state; the cold runs include V8 compiling the agent's hot path.
 *
 * The cost of TLS (`--security both|plaintext|sasl_ssl`, issue 14): our agent only (agent, agent-warm;
 * the peers do not take part), each run against two devstacks named by their client-config.json,
 * the plaintext one (`--plain-config`) and the `--secure` one (`--secure-config`: SASL_SSL with
 * SCRAM-SHA-512), which the agent takes as `--config` as a user would. Runs alternate plaintext and
 * SASL_SSL within each round; the broker's CPU is counted beside the agent's. The agent is stopped
 * (SIGSTOP) while the lines are appended and resumed when the clock starts. Writes
 * tls-results.json and tls-results.svg (results.json is left alone):
 *   node bench/agent/run.mjs --security both --plain-config var/bench-plain/client-config.json \
 *     --secure-config var/bench-secure/client-config.json [--runs 5] [--tools agent,agent-warm] [--span-ids random]
 * (tools agent-zstd, agent-warm-zstd: the agent with `--compression zstd`, if librdkafka has it)
 *
 * rsyslog: `apt-get install -y rsyslog rsyslog-kafka` (the script says so if rsyslogd is missing).
 * Brokers: PINTRACE_KAFKA_BROKERS (default 127.0.0.1:9092). Writes results.json and results.svg here.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdmin } from '@pintrace/kafka';
import { spanLines } from './span-lines.mjs';
import { benchArgs, benchBrokers } from '../lib/args.mjs';
import { freePort, killAndWait, peakRssMb, processCpu, sleep, threadCpu, threadGroupFields, waitUntil } from '../lib/processes.mjs';
import { host, loadAverage, loadavg, median as medianOf, pairedRatios, round, writeResults } from '../lib/results.mjs';
import { barChart } from '../lib/svg-chart.mjs';
import { loadStacks, securityModes, serverCpu, serverCpuDelta, serverPids, stackSummary } from '../lib/security.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const { opt, has } = benchArgs();
const runs = Number(opt('runs', 3));
const lineCount = Number(opt('lines', 128_918));
/** `--span-ids random`: lines that compress like a tracer's (span-lines.mjs) instead of the default counters. */
const spanIds = opt('span-ids', 'sequential');
/** TLS comparison mode (undefined: the default peer comparison, unchanged). */
const security = opt('security') === undefined ? undefined : securityModes(opt('security'));
const tools = opt('tools', security ? 'agent,agent-warm' : 'agent,agent-warm,agent-none,agent-kafkajs,rsyslog,rsyslog-warm,kcat').split(',');
const brokers = benchBrokers();

function threadCpuDelta(before, after) {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, Math.round((v - (before[k] ?? 0)) * 1000) / 1000])
      .filter(([, v]) => v > 0),
  );
}

async function endOffsetSum(admin, topic) {
  return (await admin.endOffsets(topic)).reduce((s, p) => s + Number(p.offset), 0);
}

/**
 * Appends the lines to the tailed file in one write. The clock starts when it returns: then the
 * lines are all in the file, as kcat's file is complete before its clock starts (writing 38 MB
 * into the page cache takes this machine ~40 ms, which is the writer's time, not the tool's).
 * The tool's CPU is counted from before the write.
 */
function appendTimed(file, body) {
  const t = performance.now();
  appendFileSync(file, body);
  const t0 = performance.now();
  return { t0, appendMs: Math.round((t0 - t) * 10) / 10 };
}

async function metric(port, name) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + '{') || line.startsWith(name + ' ')) sum += Number(line.split(' ').pop());
  return sum;
}

/** SIGSTOP, then wait until the kernel shows the process stopped (all its threads). */
async function stopProcess(pid) {
  process.kill(pid, 'SIGSTOP');
  await waitUntil(async () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('T'), 5000, 'agent stopped', 1);
}

/** Our agent: `pintrace agent` tailing dir/svc.jsonl; done when its watermark reaches the file's end (then its acked-lines counter is checked). */
async function runAgent(body, topic, dir, compression, client = '', warm = false, stack = undefined) {
  const port = await freePort();
  const live = path.join(dir, 'svc.jsonl');
  writeFileSync(live, '');
  // With a stack, the agent reaches Kafka only through that stack's client-config.json (brokers,
  // protocol, SASL user, password file, CA), exactly as `--config` is documented for users.
  const connection = stack ? ['--config', stack.configFile] : ['--kafka', brokers.join(',')];
  const child = spawn(
    process.execPath,
    [
      path.join(repo, 'cli', 'bin', 'pintrace.js'),
      'agent',
      ...connection,
      '--topic',
      topic,
      '--spans-dir',
      dir,
      '--metrics-port',
      String(port),
      '--compression',
      compression,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PINTRACE_LOG_LEVEL: 'warn', PINTRACE_KAFKA_CLIENT: client } },
  );
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200, 60_000, 'agent up');
  await sleep(500);
  // Done when the watermark (written only after Kafka acknowledged everything before it) reaches
  // the end of the file: read from disk, so the probe costs the agent nothing. (Scraping /metrics
  // every 20 ms cost the agent ~1.8 ms of CPU per scrape, ~10 % of its CPU in this bench.)
  const watermark = path.join(dir, '.pintrace-agent', 'svc.jsonl.watermark.json');
  // Every 2 ms: a 20 ms poll would add up to 20 ms to a ~200 ms run (kcat's end is seen at once).
  const shipped = (bytes) =>
    waitUntil(async () => existsSync(watermark) && JSON.parse(readFileSync(watermark, 'utf8')).offset >= bytes, 300_000, 'agent shipped everything', 2);
  const rounds = warm ? 2 : 1;
  if (warm) {
    appendFileSync(live, body);
    await shipped(body.length);
    await sleep(500);
  }
  const pids = stack ? serverPids(stack) : undefined;
  // With a stack (the TLS comparison, a million lines), the agent is stopped while the lines are
  // written and the clock and every CPU count start when it is resumed: a 293 MB append takes
  // 0.07–3.8 s here (page cache, load), and a running agent tails and ships lines meanwhile, before
  // the clock starts — lines credited to a wall time that never saw them, by a different amount
  // in every run. Stopped, it finds all the lines in the file at t0, as kcat does.
  const pause = stack !== undefined;
  if (pause) await stopProcess(child.pid);
  const appended = pause ? appendTimed(live, body) : undefined;
  const servers0 = pids ? serverCpu(pids) : undefined;
  const cpu0 = processCpu(child.pid);
  const threads0 = threadCpu(child.pid);
  let t0, appendMs;
  if (pause) {
    appendMs = appended.appendMs;
    t0 = performance.now();
    process.kill(child.pid, 'SIGCONT');
  } else {
    ({ t0, appendMs } = appendTimed(live, body));
  }
  await shipped(rounds * body.length);
  const wallMs = performance.now() - t0;
  const cpu = processCpu(child.pid) - cpu0;
  const threads = threadCpuDelta(threads0, threadCpu(child.pid));
  // The broker's CPU over the same interval (within a 2 ms poll): its side of TLS and SASL.
  const servers = pids ? serverCpuDelta(servers0, serverCpu(pids)) : {};
  const acked = await metric(port, 'pintrace_agent_lines_total');
  if (acked < rounds * lineCount) throw new Error(`agent: watermark at the end but only ${acked} of ${rounds * lineCount} lines counted`);
  const rssMb = peakRssMb(child.pid);
  await killAndWait(child);
  return { wallMs, appendMs, cpuSeconds: cpu, peakRssMb: rssMb, threads, ...(stack ? { kafkaCpuSeconds: servers.kafkaCpuSeconds } : {}) };
}

/** rsyslog with the config of devstack-facts §7: imfile (inotify) → omkafka, raw template. */
async function runRsyslog(body, topic, dir, admin, warm = false) {
  const live = path.join(dir, 'svc.jsonl');
  writeFileSync(live, '');
  const work = path.join(dir, 'rsyslog-work');
  mkdirSync(work);
  const conf = path.join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(workDirectory="${work}" maxMessageSize="64k")
module(load="imfile" mode="inotify")
module(load="omkafka")
template(name="raw" type="string" string="%msg%")
input(type="imfile" File="${live}" Tag="spans" ruleset="tokafka" PersistStateInterval="1000")
ruleset(name="tokafka" queue.type="LinkedList" queue.size="200000") {
  action(type="omkafka" broker=[${brokers.map((b) => `"${b}"`).join(',')}] topic="${topic}" template="raw" partitions.auto="on"
         confParam=["linger.ms=5","batch.num.messages=10000","compression.codec=none"])
}
`,
  );
  const child = spawn('rsyslogd', ['-n', '-f', conf, '-i', path.join(dir, 'rsyslog.pid')], { stdio: ['ignore', 'ignore', 'inherit'] });
  await sleep(1500);
  if (child.exitCode !== null) throw new Error(`rsyslogd exited with ${child.exitCode}`);
  const rounds = warm ? 2 : 1;
  if (warm) {
    appendFileSync(live, body);
    await waitUntil(async () => (await endOffsetSum(admin, topic)) >= lineCount, 300_000, 'rsyslog shipped the warm-up');
    await sleep(500);
  }
  const cpu0 = processCpu(child.pid);
  const { t0, appendMs } = appendTimed(live, body);
  await waitUntil(async () => (await endOffsetSum(admin, topic)) >= rounds * lineCount, 300_000, 'rsyslog shipped everything', 5);
  const wallMs = performance.now() - t0;
  const cpu = processCpu(child.pid) - cpu0;
  const rssMb = peakRssMb(child.pid);
  await killAndWait(child);
  return { wallMs, appendMs, cpuSeconds: cpu, peakRssMb: rssMb };
}

/** kcat -P -l: the finished file in one go (raw ceiling); CPU from bash's `times` (children). */
async function runKcat(body, topic, dir, admin) {
  const file = path.join(dir, 'svc.jsonl');
  writeFileSync(file, body);
  const t0 = performance.now();
  const out = execFileSync('bash', ['-c', `kcat -P -b ${brokers[0]} -t ${topic} -l ${file} && times`]).toString();
  await waitUntil(async () => (await endOffsetSum(admin, topic)) >= lineCount, 60_000, 'kcat shipped everything');
  const wallMs = performance.now() - t0;
  const child = out
    .trim()
    .split('\n')
    .pop()
    .split(/\s+/)
    .map((t) => {
      const m = /(\d+)m([\d.]+)s/.exec(t);
      return Number(m[1]) * 60 + Number(m[2]);
    });
  return { wallMs, cpuSeconds: child[0] + child[1], peakRssMb: undefined };
}

if (security) {
  await runTls();
  process.exit(0);
}
if (has('plot-only')) {
  // Redraw results.svg from results.json without running anything.
  const saved = JSON.parse(readFileSync(path.join(here, 'results.json'), 'utf8'));
  writeFileSync(path.join(here, 'results.svg'), svg(saved.summary));
  process.exit(0);
}
const admin = createAdmin(brokers);
if (tools.some((t) => t.startsWith('rsyslog')) && !existsSync('/usr/sbin/rsyslogd')) {
  console.error('rsyslogd is missing: apt-get install -y rsyslog rsyslog-kafka (or pass --tools agent,kcat)');
  process.exit(2);
}
const body = spanLines(lineCount, { ids: spanIds });
console.error(`${lineCount} span lines, ${(body.length / 1e6).toFixed(1)} MB, ${runs} runs of ${tools.join(', ')} against ${brokers.join(',')}`);
const rows = [];
for (let r = 0; r < runs; r++) {
  const order = r % 2 === 0 ? tools : [...tools].reverse();
  for (const tool of order) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `bench-agent-${tool}-`));
    const topic = `bench-agent-${tool}-${Date.now().toString(36)}`;
    await admin.ensureTopic(topic, 4);
    try {
      const m =
        tool === 'agent'
          ? await runAgent(body, topic, dir, 'snappy')
          : tool === 'agent-warm'
            ? await runAgent(body, topic, dir, 'snappy', '', true)
            : tool === 'rsyslog-warm'
              ? await runRsyslog(body, topic, dir, admin, true)
              : tool === 'agent-none'
                ? await runAgent(body, topic, dir, 'none')
                : tool === 'agent-kafkajs'
                  ? await runAgent(body, topic, dir, 'snappy', 'kafkajs')
                  : tool === 'rsyslog'
                    ? await runRsyslog(body, topic, dir, admin)
                    : await runKcat(body, topic, dir, admin);
      const row = {
        tool,
        run: r + 1,
        lines: lineCount,
        bytes: body.length,
        ...m,
        linesPerSec: Math.round(lineCount / (m.wallMs / 1000)),
        linesPerCpuSec: Math.round(lineCount / m.cpuSeconds),
        loadavg: os.loadavg()[0],
      };
      rows.push(row);
      console.error(JSON.stringify(row));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
await admin.close();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const summary = tools.map((tool) => {
  const rs = rows.filter((r) => r.tool === tool);
  return {
    tool,
    runs: rs.length,
    wallMs: Math.round(median(rs.map((r) => r.wallMs))),
    linesPerSec: median(rs.map((r) => r.linesPerSec)),
    linesPerCpuSec: median(rs.map((r) => r.linesPerCpuSec)),
    cpuSeconds: Math.round(median(rs.map((r) => r.cpuSeconds)) * 100) / 100,
    peakRssMb: median(rs.map((r) => r.peakRssMb ?? 0)) || undefined,
  };
});
const by = Object.fromEntries(summary.map((s) => [s.tool, s]));
const ratio = (a, b, k) => (by[a] && by[b] ? Math.round((by[a][k] / by[b][k]) * 100) / 100 : undefined);
const ratios = {
  agentVsRsyslogWall: ratio('agent', 'rsyslog', 'linesPerSec'),
  agentVsRsyslogPerCore: ratio('agent', 'rsyslog', 'linesPerCpuSec'),
  agentVsKcatWall: ratio('agent', 'kcat', 'linesPerSec'),
  agentVsKcatPerCore: ratio('agent', 'kcat', 'linesPerCpuSec'),
  agentNoneVsKcatWall: ratio('agent-none', 'kcat', 'linesPerSec'),
  agentNoneVsKcatPerCore: ratio('agent-none', 'kcat', 'linesPerCpuSec'),
  agentNoneVsRsyslogWall: ratio('agent-none', 'rsyslog', 'linesPerSec'),
  agentNoneVsRsyslogPerCore: ratio('agent-none', 'rsyslog', 'linesPerCpuSec'),
  kafkajsVsRsyslogWall: ratio('agent-kafkajs', 'rsyslog', 'linesPerSec'),
  kafkajsVsKcatWall: ratio('agent-kafkajs', 'kcat', 'linesPerSec'),
  warmAgentVsWarmRsyslogWall: ratio('agent-warm', 'rsyslog-warm', 'linesPerSec'),
  warmAgentVsWarmRsyslogPerCore: ratio('agent-warm', 'rsyslog-warm', 'linesPerCpuSec'),
  warmAgentVsKcatWall: ratio('agent-warm', 'kcat', 'linesPerSec'),
  warmAgentVsKcatPerCore: ratio('agent-warm', 'kcat', 'linesPerCpuSec'),
};
const result = {
  date: new Date().toISOString(),
  node: process.version,
  host: host(),
  brokers,
  lines: lineCount,
  bytes: body.length,
  summary,
  ratios,
  runs: rows,
};
writeResults(here, 'results.json', result);
writeFileSync(path.join(here, 'results.svg'), svg(summary));
console.log(JSON.stringify({ summary, ratios }, null, 2));

/** Two bar groups (lines/s wall, lines per CPU-second) per tool. */
function svg(rows) {
  const W = 680,
    gap = 44,
    H = 80 + rows.length * gap,
    left = 150,
    barH = 16;
  const maxV = Math.max(...rows.flatMap((r) => [r.linesPerSec, r.linesPerCpuSec]));
  const scale = (v) => ((W - left - 120) * v) / maxV;
  let y = 40;
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n<text x="10" y="20" font-size="14">File → Kafka, ${lineCount} span lines: lines/s (wall) and lines per CPU-second</text>\n`;
  for (const r of rows) {
    out += `<text x="10" y="${y + 14}">${r.tool}</text>\n`;
    out += `<rect x="${left}" y="${y}" width="${scale(r.linesPerSec)}" height="${barH}" fill="#4e79a7"/><text x="${left + scale(r.linesPerSec) + 4}" y="${y + 12}">${r.linesPerSec.toLocaleString('en')} /s</text>\n`;
    out += `<rect x="${left}" y="${y + barH + 2}" width="${scale(r.linesPerCpuSec)}" height="${barH}" fill="#f28e2b"/><text x="${left + scale(r.linesPerCpuSec) + 4}" y="${y + barH + 14}">${r.linesPerCpuSec.toLocaleString('en')} /CPU-s</text>\n`;
    y += gap;
  }
  out += `<rect x="${left}" y="${H - 24}" width="10" height="10" fill="#4e79a7"/><text x="${left + 14}" y="${H - 15}">lines/s wall</text><rect x="${left + 110}" y="${H - 24}" width="10" height="10" fill="#f28e2b"/><text x="${left + 124}" y="${H - 15}">lines per CPU-second</text>\n</svg>\n`;
  return out;
}

/**
 * The cost of TLS: the same lines through our agent into a plaintext and a SASL_SSL broker, in
 * one run. Each round runs every (tool, security) pair, plaintext and SASL_SSL of one tool next
 * to each other so that both see the same machine load, the order reversed every other round.
 */
async function runTls() {
  const peers = tools.filter((t) => !t.startsWith('agent') || t === 'agent-kafkajs');
  if (peers.length) {
    console.error(`--security compares our agent (librdkafka) only: drop ${peers.join(', ')} from --tools`);
    process.exit(2);
  }
  let stacks;
  try {
    stacks = loadStacks(security, { plain: opt('plain-config'), secure: opt('secure-config') });
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  const admins = Object.fromEntries(security.map((mode) => [mode, createAdmin(stacks[mode].brokers, { security: stacks[mode].kafka.security })]));
  const body = spanLines(lineCount, { ids: spanIds });
  const variants = tools.flatMap((tool) => security.map((mode) => ({ tool, mode })));
  console.error(`${lineCount} span lines, ${(body.length / 1e6).toFixed(1)} MB, ${runs} rounds of ${variants.map((v) => `${v.tool}/${v.mode}`).join(', ')}`);
  const load0 = loadavg();
  const rows = [];
  for (let r = 0; r < runs; r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const { tool, mode } of order) {
      const dir = mkdtempSync(path.join(os.tmpdir(), `bench-agent-${tool}-`));
      const topic = `bench-agent-${tool}-${mode}-${Date.now().toString(36)}`;
      await admins[mode].ensureTopic(topic, 4);
      try {
        const client = tool === 'agent-kafkajs' ? 'kafkajs' : '';
        // agent-zstd / agent-warm-zstd: the same agent with `--compression zstd` (needs a librdkafka built with libzstd).
        const codec = tool === 'agent-none' ? 'none' : tool.endsWith('-zstd') ? 'zstd' : 'snappy';
        const m = await runAgent(body, topic, dir, codec, client, tool.startsWith('agent-warm'), stacks[mode]);
        // by who spent it: librdkafka's threads do the TLS and SASL
        const split = threadGroupFields(m.threads);
        const row = {
          tool,
          security: stacks[mode].protocol,
          run: r + 1,
          lines: lineCount,
          bytes: body.length,
          ...m,
          ...split,
          linesPerSec: Math.round(lineCount / (m.wallMs / 1000)),
          cpuUsPerLine: round((m.cpuSeconds * 1e6) / lineCount, 3),
          loadavg: os.loadavg()[0],
        };
        rows.push(row);
        console.error(JSON.stringify({ ...row, threads: undefined }));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  for (const a of Object.values(admins)) await a.close();

  const summary = variants.map(({ tool, mode }) => {
    const rs = rows.filter((r) => r.tool === tool && r.security === stacks[mode].protocol);
    const m = (k) => medianOf(rs.map((r) => r[k]));
    return {
      tool,
      security: stacks[mode].protocol,
      runs: rs.length,
      wallMs: round(m('wallMs'), 1),
      linesPerSec: Math.round(m('linesPerSec')),
      linesPerSecRange: [Math.min(...rs.map((r) => r.linesPerSec)), Math.max(...rs.map((r) => r.linesPerSec))],
      cpuSeconds: round(m('cpuSeconds')),
      cpuUsPerLine: round(m('cpuUsPerLine')),
      mainCpuSeconds: round(m('mainCpuSeconds')),
      librdkafkaCpuSeconds: round(m('librdkafkaCpuSeconds')),
      otherCpuSeconds: round(m('otherCpuSeconds')),
      kafkaCpuSeconds: round(m('kafkaCpuSeconds')),
      peakRssMb: m('peakRssMb'),
    };
  });
  const ratios = {};
  if (security.length === 2) {
    for (const tool of tools) {
      const plain = summary.find((s) => s.tool === tool && s.security === 'PLAINTEXT');
      const tls = summary.find((s) => s.tool === tool && s.security === 'SASL_SSL');
      ratios[tool] = {
        spansPerSecSaslSslVsPlaintext: round(tls.linesPerSec / plain.linesPerSec),
        cpuPerSpanSaslSslVsPlaintext: round(tls.cpuUsPerLine / plain.cpuUsPerLine),
        ...pairedRatios(
          rows,
          (x) => x.tool === tool && x.security === 'PLAINTEXT',
          (x) => x.tool === tool && x.security === 'SASL_SSL',
          { roundKey: 'run', rate: 'linesPerSec', cpu: 'cpuSeconds' },
        ),
        brokerCpuSaslSslVsPlaintext: plain.kafkaCpuSeconds ? round(tls.kafkaCpuSeconds / plain.kafkaCpuSeconds) : undefined,
        targetAtMost15PercentFewerSpansPerSec: tls.linesPerSec / plain.linesPerSec >= 0.85,
      };
    }
  }
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    host: host(),
    loadAverage: loadAverage(load0, rows),
    stacks: Object.fromEntries(Object.entries(stacks).map(([mode, s]) => [mode, stackSummary(s, repo)])),
    lines: lineCount,
    bytes: body.length,
    spanIds,
    rounds: runs,
    summary,
    ratios,
    runs: rows,
  };
  writeResults(here, 'tls-results.json', result);
  writeFileSync(
    path.join(here, 'tls-results.svg'),
    barChart({
      title: `Agent, ${lineCount.toLocaleString('en')} span lines → Kafka: plaintext vs SASL_SSL (medians of ${runs})`,
      unit: 'lines per second',
      groups: tools.flatMap((tool) => [
        { label: `${tool}: lines/s wall`, bars: summary.filter((s) => s.tool === tool).map((s) => ({ label: s.security, value: s.linesPerSec })) },
        {
          label: `${tool}: lines per CPU-s`,
          bars: summary.filter((s) => s.tool === tool).map((s) => ({ label: s.security, value: Math.round(1e6 / s.cpuUsPerLine) })),
        },
      ]),
    }),
  );
  console.log(JSON.stringify({ summary, ratios, loadAverage: result.loadAverage }, null, 2));
}
