#!/usr/bin/env node
/**
 * OTLP intake → Kafka, side by side in one run: our agent's intake (`pintrace agent --intake true`)
 * and the OpenTelemetry Collector (otlp receiver → kafka exporter, built from Go modules by
 * build-otelcol.mjs), each shipping into its own new topic on the same broker.
 *
 * The load is what OpenTelemetry SDKs send by default: OTLP/HTTP protobuf export requests of 512
 * spans (the BatchSpanProcessor's batch), from `--concurrency` keep-alive connections (as many SDK
 * processes, each with one export in flight), identical bodies for every server (otlp-load.mjs).
 * Each run: start the server, send `--warmup` requests and wait until they are in Kafka (a host's
 * intake runs for days: this is its steady state, JIT-compiled), then the measured `--requests`.
 * A span counts once its request was answered 2xx AND it was read back from the server's topic
 * (a consumer in this process reads every message and finds the span ids), so the clock stops
 * when the last acknowledged span is in Kafka, not at the last answer: the Collector answers once
 * a request is in its in-memory queue, our agent once the spans are in its spool file (fsync'd).
 * CPU is utime+stime of the server process from /proc (all threads) over the same interval, so
 * spans per CPU-second = spans per second per core. Peak RSS is VmHWM. Runs alternate the order.
 *
 *   node bench/intake/build-otelcol.mjs          (once; cached under var/otelcol/)
 *   PINTRACE_KAFKA_BROKERS=127.0.0.1:43092 node bench/intake/run.mjs [--runs 3] [--requests 400] \
 *     [--warmup 40] [--concurrency 4] [--spans-per-request 512] [--tools ours,otelcol,otelcol-otlp]
 *   node bench/intake/run.mjs --plot-only       (redraws results.svg from results.json)
 *   ... --transport grpc                        (OTLP/gRPC instead: results-grpc.json, results-grpc.svg)
 *
 * Tools: `ours` = `pintrace agent --intake true` as shipped (OTLP → Zipkin v2 JSON, spool fsync
 * `always`, librdkafka, snappy, one message per trace, keyed by trace id).
 * `otelcol` = the Collector configured to write what ours writes: `zipkin_json`, keyed by trace id
 * (`partition_traces_by_id`), snappy, acks from all in-sync replicas. This is the comparison the
 * target is on: the same work (translate OTLP to Zipkin v2, one message per trace).
 * `otelcol-otlp` = the Collector's exporter defaults: `otlp_proto` (the request re-encoded as one
 * message, no translation), no key, no compression, acks from the leader.
 * `PINTRACE_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"` profiles our agent's process.
 * `--transport grpc` sends the same bodies as OTLP/gRPC `TraceService/Export` calls instead, each
 * of the `--concurrency` clients on its own HTTP/2 connection (as separate SDK processes have), to
 * our intake's gRPC port and the Collector's otlp receiver's gRPC endpoint; a call counts like a
 * 2xx, UNAVAILABLE and RESOURCE_EXHAUSTED are retried after a second, as the OTLP spec asks.
 * Writes results.json and results.svg beside this file (results-grpc.* with --transport grpc).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdmin, createConsumer } from '@pintrace/kafka';
import { benchArgs, benchBrokers } from '../lib/args.mjs';
import { freePort, killAndWait, peakRssMb, processCpu, sleep, threadCpu, threadGroups, waitUntil } from '../lib/processes.mjs';
import { host, loadavg, median, round, writeResults } from '../lib/results.mjs';
import { barChart } from '../lib/svg-chart.mjs';
import { otelcolBinary } from './build-otelcol.mjs';
import { exportRequests, otlpProtoSpanIds, zipkinJsonSpanIds } from './otlp-load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const { opt, has } = benchArgs();
const runs = Number(opt('runs', 3));
const requests = Number(opt('requests', 400));
const warmup = Number(opt('warmup', 40));
const concurrency = Number(opt('concurrency', 4));
const spansPerRequest = Number(opt('spans-per-request', 512));
const tools = opt('tools', 'ours,otelcol,otelcol-otlp').split(',');
const brokers = benchBrokers();
const nodeArgs = (process.env.PINTRACE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const transport = opt('transport', 'http');
if (transport !== 'http' && transport !== 'grpc') throw new Error(`--transport http|grpc, not ${transport}`);
const grpcJs = transport === 'grpc' ? createRequire(path.join(repo, 'logger-agent', 'package.json'))('@grpc/grpc-js') : undefined;
const EXPORT_METHOD = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const outputName = transport === 'grpc' ? 'results-grpc' : 'results';
const PARTITIONS = 4;

const LABELS = {
  ours: 'pintrace agent --intake (Zipkin JSON, snappy)',
  otelcol: 'otelcol (zipkin_json, by trace id, snappy)',
  'otelcol-otlp': 'otelcol (otlp_proto, defaults)',
};

if (has('plot-only')) {
  const saved = JSON.parse(readFileSync(path.join(here, `${outputName}.json`), 'utf8'));
  writeFileSync(path.join(here, `${outputName}.svg`), svg(saved));
  process.exit(0);
}

/** An empty OTLP export request (valid: no spans): 200 once the receiver listens (over gRPC: OK). */
async function emptyExport(url) {
  if (transport === 'grpc') {
    const client = grpcClient(url);
    try {
      return (await exportCall(client, Buffer.alloc(0))).status;
    } finally {
      client.close();
    }
  }
  return (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array() })).status;
}

/** A gRPC client on a connection of its own (grpc-js shares one per target otherwise). */
function grpcClient(target) {
  return new grpcJs.Client(target, grpcJs.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

/**
 * One `TraceService/Export` call with an already-encoded body, in HTTP's terms: 200 for OK, 503
 * for the codes OTLP says to retry (UNAVAILABLE, RESOURCE_EXHAUSTED; after a second), else 500.
 */
function exportCall(client, body) {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      EXPORT_METHOD,
      (b) => b,
      (b) => b,
      body,
      { deadline: Date.now() + 60_000 },
      (err) => {
        if (!err) resolve({ status: 200, retryAfter: 0 });
        else if (err.code === grpcJs.status.UNAVAILABLE || err.code === grpcJs.status.RESOURCE_EXHAUSTED) resolve({ status: 503, retryAfter: 1 });
        else resolve({ status: 500, retryAfter: 0, error: err.message });
      },
    );
  });
}

/** Our agent with its intake on free ports; the span files dir is its own temp dir. */
async function startOurs(topic, dir) {
  const [metrics, otlpHttp, otlpGrpc, zipkin] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      path.join(repo, 'cli', 'bin', 'pintrace.js'),
      'agent',
      '--kafka',
      brokers.join(','),
      '--topic',
      topic,
      '--spans-dir',
      dir,
      '--metrics-port',
      String(metrics),
      '--intake',
      'true',
      '--otlp-http-port',
      String(otlpHttp),
      '--otlp-grpc-port',
      String(otlpGrpc),
      '--zipkin-port',
      String(zipkin),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PINTRACE_LOG_LEVEL: 'warn' } },
  );
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${metrics}/health`)).status === 200, 60_000, 'agent up');
  const url = transport === 'grpc' ? `127.0.0.1:${otlpGrpc}` : `http://127.0.0.1:${otlpHttp}/v1/traces`;
  // The intake's listeners may open after /health answers.
  await waitUntil(async () => (await emptyExport(url)) === 200, 60_000, 'agent intake up', 100);
  return { child, url };
}

/** The Collector: otlp (HTTP, or gRPC with --transport grpc) → kafka, its own telemetry off (no :8888 listener per run). */
async function startOtelcol(binary, topic, dir, variant) {
  const port = await freePort();
  const exporter =
    variant === 'otelcol'
      ? `    traces:
      topic: ${topic}
      encoding: zipkin_json
    partition_traces_by_id: true
    producer:
      compression: snappy
      required_acks: -1`
      : `    traces:
      topic: ${topic}`;
  const config = path.join(dir, 'otelcol.yaml');
  writeFileSync(
    config,
    `receivers:
  otlp:
    protocols:
      ${transport}:
        endpoint: 127.0.0.1:${port}
exporters:
  kafka:
    brokers: [${brokers.map((b) => `"${b}"`).join(', ')}]
${exporter}
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [kafka]
`,
  );
  const child = spawn(binary, ['--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = transport === 'grpc' ? `127.0.0.1:${port}` : `http://127.0.0.1:${port}/v1/traces`;
  // Ready when its receiver answers an empty export (an empty request is valid OTLP).
  await waitUntil(async () => (await emptyExport(url)) === 200, 60_000, 'otelcol up', 100);
  return { child, url };
}

/**
 * Sends the bodies over `concurrency` keep-alive connections (HTTP/1.1, or HTTP/2 for gRPC), each
 * one request at a time (as an SDK exports); see sendWith.
 */
async function send(url, bodies) {
  return transport === 'grpc' ? sendGrpc(url, bodies) : sendHttp(url, bodies);
}

async function sendGrpc(target, bodies) {
  const clients = Array.from({ length: concurrency }, () => grpcClient(target));
  let c = 0;
  // each worker takes the next client: one call in flight per connection
  const result = await sendWith(bodies, () => {
    const client = clients[c++ % clients.length];
    return (body) => exportCall(client, body);
  });
  for (const client of clients) client.close();
  return result;
}

async function sendHttp(url, bodies) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const { hostname, port, pathname } = new URL(url);
  const post = (body) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { agent, hostname, port, path: pathname, method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode, retryAfter: Number(res.headers['retry-after'] ?? 1) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const result = await sendWith(bodies, () => post);
  agent.destroy();
  return result;
}

/**
 * Sends the bodies from `concurrency` workers, each one request at a time through the sender
 * `senderOf()` gave it; a 429/503 is retried after its Retry-After, as SDKs do. Returns the
 * indexes answered 2xx.
 */
async function sendWith(bodies, senderOf) {
  const acked = [];
  let throttled = 0;
  let failed = 0;
  let next = 0;
  const worker = async () => {
    const post = senderOf();
    for (let i = next++; i < bodies.length; i = next++) {
      for (let attempt = 0; ; attempt++) {
        const { status, retryAfter } = await post(bodies[i]);
        if (status >= 200 && status < 300) {
          acked.push(i);
          break;
        }
        if ((status === 429 || status === 503) && attempt < 20) {
          throttled++;
          await sleep(retryAfter * 1000);
          continue;
        }
        failed++;
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { acked, throttled, failed };
}

/** Reads the topic from its start and records every span id found, per encoding. */
async function startReader(topic, encoding) {
  const seen = new Set();
  let messages = 0;
  let spans = 0;
  const onId = (id) => {
    spans++;
    seen.add(id);
  };
  const consumer = createConsumer({ brokers, groupId: `${topic}-reader`, topics: [topic], fromBeginning: true, maxWaitTimeMs: 20 });
  let assigned = false;
  consumer.onRebalance((parts) => {
    if (parts.length > 0) assigned = true;
  });
  await consumer.connect();
  void consumer.run(async (batch) => {
    for (const m of batch.messages) {
      if (m.value === null) continue;
      messages++;
      if (encoding === 'otlp_proto') otlpProtoSpanIds(m.value, onId);
      else zipkinJsonSpanIds(m.value, onId);
    }
  });
  await waitUntil(async () => assigned, 60_000, 'reader assigned');
  return { seen, counts: () => ({ messages, spans }), close: () => consumer.disconnect() };
}

/** Spans of the given requests not yet read back from Kafka. */
function missing(reader, spanIds, indexes) {
  let n = 0;
  for (const i of indexes) for (const id of spanIds[i]) if (!reader.seen.has(id)) n++;
  return n;
}

async function runOne(tool, load, binary) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-intake-${tool}-`));
  const topic = `bench-intake-${tool}-${Date.now().toString(36)}`;
  await admin.ensureTopic(topic, PARTITIONS);
  const reader = await startReader(topic, tool === 'otelcol-otlp' ? 'otlp_proto' : 'zipkin_json');
  const server = tool === 'ours' ? await startOurs(topic, dir) : await startOtelcol(binary, topic, dir, tool);
  const { pid } = server.child;
  try {
    // Warm-up, not measured: until its spans are all in Kafka.
    const w = await send(server.url, load.warm.bodies);
    await waitUntil(async () => missing(reader, load.warm.spanIds, w.acked) === 0, 120_000, `${tool}: warm-up spans in Kafka`, 5);
    await sleep(300);
    const cpu0 = processCpu(pid);
    const threads0 = tool === 'ours' ? threadGroups(threadCpu(pid)) : undefined;
    const read0 = reader.counts();
    const t0 = performance.now();
    const sent = await send(server.url, load.measured.bodies);
    const ackMs = performance.now() - t0;
    // Every 5 ms: each poll walks the acknowledged ids still missing, in this process, not the server's.
    let left = missing(reader, load.measured.spanIds, sent.acked);
    await waitUntil(
      async () => {
        left = missing(reader, load.measured.spanIds, sent.acked);
        return left === 0;
      },
      300_000,
      `${tool}: acknowledged spans in Kafka (${left} missing)`,
      5,
    );
    const wallMs = performance.now() - t0;
    const cpuSeconds = processCpu(pid) - cpu0;
    const threads1 = tool === 'ours' ? threadGroups(threadCpu(pid)) : undefined;
    const rss = peakRssMb(pid);
    await sleep(500); // late duplicates, if any, still land in the counts below
    const read1 = reader.counts();
    const ackedSpans = sent.acked.reduce((n, i) => n + load.measured.spanIds[i].length, 0);
    return {
      tool,
      topic,
      requests: load.measured.bodies.length,
      ackedRequests: sent.acked.length,
      throttled: sent.throttled,
      failed: sent.failed,
      ackedSpans,
      spansReadBack: read1.spans - read0.spans,
      messages: read1.messages - read0.messages,
      ackMs: round(ackMs, 1),
      wallMs: round(wallMs, 1),
      cpuSeconds: round(cpuSeconds, 3),
      ...(threads0 ? { threads: Object.fromEntries(Object.keys(threads1).map((k) => [k, round(threads1[k] - threads0[k], 3)])) } : {}),
      spansPerSec: Math.round(ackedSpans / (wallMs / 1000)),
      ackedSpansPerSec: Math.round(ackedSpans / (ackMs / 1000)),
      spansPerCpuSec: Math.round(ackedSpans / cpuSeconds),
      peakRssMb: rss,
      loadavg: round(os.loadavg()[0], 2),
    };
  } finally {
    await killAndWait(server.child);
    await reader.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const binary = tools.some((t) => t.startsWith('otelcol')) ? otelcolBinary() : undefined;
const admin = createAdmin(brokers);
const t = performance.now();
const load = { warm: exportRequests(warmup, spansPerRequest, 0), measured: exportRequests(requests, spansPerRequest, 1_000_000) };
const bodyBytes = load.measured.bodies.reduce((n, b) => n + b.length, 0);
console.error(
  `${requests} requests × ${spansPerRequest} spans (${(bodyBytes / 1e6).toFixed(1)} MB OTLP protobuf, encoded in ${Math.round(performance.now() - t)} ms), ${warmup} warm-up requests, ${concurrency} connections, ${runs} runs of ${tools.join(', ')} against ${brokers.join(',')}`,
);
const load0 = loadavg();
const rows = [];
for (let r = 0; r < runs; r++) {
  const order = r % 2 === 0 ? tools : [...tools].reverse();
  for (const tool of order) {
    const row = { run: r + 1, ...(await runOne(tool, load, binary)) };
    rows.push(row);
    console.error(JSON.stringify(row));
    if (row.spansReadBack < row.ackedSpans) throw new Error(`${tool}: ${row.ackedSpans} spans acknowledged, ${row.spansReadBack} read back`);
  }
}
await admin.close();

const summary = tools.map((tool) => {
  const rs = rows.filter((r) => r.tool === tool);
  const m = (k) => median(rs.map((r) => r[k]));
  return {
    tool,
    label: LABELS[tool],
    runs: rs.length,
    spansPerSec: Math.round(m('spansPerSec')),
    spansPerSecRange: [Math.min(...rs.map((r) => r.spansPerSec)), Math.max(...rs.map((r) => r.spansPerSec))],
    ackedSpansPerSec: Math.round(m('ackedSpansPerSec')),
    spansPerCpuSec: Math.round(m('spansPerCpuSec')),
    spansPerCpuSecRange: [Math.min(...rs.map((r) => r.spansPerCpuSec)), Math.max(...rs.map((r) => r.spansPerCpuSec))],
    cpuSeconds: round(m('cpuSeconds')),
    peakRssMb: m('peakRssMb'),
    throttled: rs.reduce((n, r) => n + r.throttled, 0),
    failed: rs.reduce((n, r) => n + r.failed, 0),
  };
});
const by = Object.fromEntries(summary.map((s) => [s.tool, s]));
const ratio = (a, b, k) => (by[a] && by[b] ? round(by[a][k] / by[b][k], 2) : undefined);
/** Ours ÷ theirs within each run (the two ran seconds apart, under the same machine load). */
const paired = (peer, k) =>
  median(
    Array.from({ length: runs }, (_, i) => {
      const a = rows.find((r) => r.run === i + 1 && r.tool === 'ours');
      const b = rows.find((r) => r.run === i + 1 && r.tool === peer);
      return a && b ? a[k] / b[k] : undefined;
    }),
  );
const ratios = {
  oursVsOtelcolPerCpuSec: ratio('ours', 'otelcol', 'spansPerCpuSec'),
  oursVsOtelcolPerCpuSecPaired: round(paired('otelcol', 'spansPerCpuSec'), 2),
  oursVsOtelcolSpansPerSec: ratio('ours', 'otelcol', 'spansPerSec'),
  oursVsOtelcolRss: ratio('ours', 'otelcol', 'peakRssMb'),
  oursVsOtelcolOtlpPerCpuSec: ratio('ours', 'otelcol-otlp', 'spansPerCpuSec'),
  oursVsOtelcolOtlpSpansPerSec: ratio('ours', 'otelcol-otlp', 'spansPerSec'),
};
const result = {
  date: new Date().toISOString(),
  node: process.version,
  host: host(),
  loadAverage: { atStart: load0, atEnd: loadavg() },
  otelcol: binary ? { binary: path.relative(repo, binary), manifest: 'bench/intake/otelcol-builder.yaml' } : undefined,
  brokers,
  load: {
    requests,
    warmup,
    spansPerRequest,
    concurrency,
    bodyBytes,
    spans: requests * spansPerRequest,
    encoding: transport === 'grpc' ? 'OTLP/gRPC' : 'OTLP/HTTP protobuf',
  },
  summary,
  ratios,
  runs: rows,
};
writeResults(here, `${outputName}.json`, result);
writeFileSync(path.join(here, `${outputName}.svg`), svg(result));
console.log(JSON.stringify({ summary, ratios }, null, 2));

function svg(r) {
  return barChart({
    title: `${r.load.encoding === 'OTLP/gRPC' ? 'OTLP/gRPC' : 'OTLP/HTTP'} → Kafka, ${r.load.spans.toLocaleString('en')} spans in ${r.load.spansPerRequest}-span requests (medians of ${r.summary[0].runs})`,
    unit: 'spans per second',
    groups: [
      { label: 'spans/s into Kafka (wall)', bars: r.summary.map((s) => ({ label: s.tool, value: s.spansPerSec })) },
      { label: 'spans per CPU-second of the server', bars: r.summary.map((s) => ({ label: s.tool, value: s.spansPerCpuSec })) },
    ],
  });
}
