#!/usr/bin/env node
/**
 * Collector throughput, side by side in one run: the same burst on one Kafka topic (10,000
 * messages, ~129k spans, one trace per message, put on the topic before any consumer starts),
 * consumed into the same Elasticsearch by
 *   1. our collector (`pintrace collector`, a child process, its own index prefix and group),
 *   2. the real zipkin-server 3.6.1 Kafka collector (the jar, its own ES_INDEX, group, QUERY_PORT),
 * one after the other, plus
 *   3. the raw bulk-index ceiling of that node: the same span lines bulk-indexed into a throwaway
 *      index (5 shards, 0 replicas, `dynamic: false`, minimal mapping), batches of 5,000, 3 in flight,
 *   4. the zipkin-document ceiling: the same, but the exact Zipkin documents with their `_id`s
 *      into an index with zipkin's span template (what no Zipkin-exact writer can exceed).
 * CPU seconds (ours from /proc, the Elasticsearch node's from its node stats) are reported too.
 * Counts spans *indexed* (documents in ES, polled with _count), not accepted; rate = indexed
 * spans / seconds from the first document to the last new one. Peak RSS from /proc (VmHWM).
 *
 *   npx tsc -b && node bench/collector/run.mjs [--only ours|zipkin|raw|zdoc|ours,raw,...] [--messages 10000] [--poll refresh|stats] [--heap-mb 160] [-- extra collector flags]
 *
 * The cost of TLS (`--security both|plaintext|sasl_ssl`, issue 14): our collector only, `--rounds N`
 * (default 3) rounds, each consuming the same burst once from a plaintext devstack
 * (`--plain-config`) and once from a `--secure` one (`--secure-config`: SASL_SSL SCRAM-SHA-512 Kafka,
 * the store behind nginx with TLS and basic auth), each given to the collector as `--config`, the
 * two alternating in order. Progress is polled on each store node directly (not through the front).
 * Writes tls-results.json and tls-throughput.svg (results.json is left alone):
 *   node bench/collector/run.mjs --security both --plain-config var/bench-plain/client-config.json \
 *     --secure-config var/bench-secure/client-config.json [--rounds 3] [--messages 10000]
 *
 * The cost of RED aggregation (`--red`, issue 16): our collector only, `--rounds N` (default 3)
 * pairs on one burst, off vs `--red-window-ms <ms>` (default 10000), alternating which goes first.
 * Writes red-results.json and red-throughput.svg:
 *   node bench/collector/run.mjs --red [--rounds 3] [--red-window-ms 10000] [-- extra collector flags]
 *
 * Env: PINTRACE_BENCH_NODE_ARGS (extra node flags for our collector, e.g. --cpu-prof),
 * PINTRACE_KAFKA_BROKERS (127.0.0.1:9092), PINTRACE_ES_URL (http://127.0.0.1:9200),
 * ZIPKIN_JAR (var/devstack/zipkin/lib/zipkin-server-3.6.1-exec.jar). Writes results.json and
 * throughput.svg beside this file.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdmin, createProducer } from '@pintrace/kafka';
import { checkSpan } from '@pintrace/model';
import { buildTemplates, encodeSpanDocument, parseClusterVersion } from '@pintrace/storage';
import { benchArgs, benchBrokers } from '../lib/args.mjs';
import { burstTraces } from '../lib/burst.mjs';
import { freePort, peakRssMb, processCpu, sleep, threadCpu, threadGroupFields } from '../lib/processes.mjs';
import { loadAverage, loadavg, median, pairedRatios, round, writeResults } from '../lib/results.mjs';
import { barChart } from '../lib/svg-chart.mjs';
import { loadStacks, securityModes, serverCpu, serverCpuDelta, serverPids, stackSummary } from '../lib/security.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const brokers = benchBrokers();
/** The store the bench itself talks to; with --security, switched per run to that stack's node. */
let es = process.env.PINTRACE_ES_URL ?? 'http://127.0.0.1:9200';
const { opt, has, extra } = benchArgs();
const only = opt('only', 'all');
const runs = (name) => only === 'all' || only.split(',').includes(name);
/** V8 old-space limit of our collector's process, e.g. 160 (the README's advice for RSS < 256 MB). */
const heapMb = opt('heap-mb', undefined);
const MESSAGES = Number(opt('messages', '10000'));
/**
 * How progress is watched: `refresh` (default) forces a refresh and counts every 250 ms; `stats`
 * reads the indices' indexing counter (no refresh: the node is not made to cut a segment four
 * times a second, which the ceilings below never pay) and counts once at the end.
 */
const poll = opt('poll', 'refresh');
const security = opt('security', undefined) === undefined ? undefined : securityModes(opt('security'));
const rounds = Number(opt('rounds', '3'));
/** `--red`: the cost of RED aggregation, off vs `--red-window-ms <this>` (default 10000), `--rounds` pairs. */
const redCompare = has('red');
const redWindowMs = opt('red-window-ms', '10000');
const id = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const topic = `bench-collector-${id}`;

function findJar() {
  if (process.env.ZIPKIN_JAR) return process.env.ZIPKIN_JAR;
  const dir = path.join(root, 'var/devstack/zipkin/lib');
  const jar = existsSync(dir) ? readdirSync(dir).find((f) => /^zipkin-server-.*exec\.jar$/.test(f)) : undefined;
  return jar ? path.join(dir, jar) : undefined;
}

async function esJson(method, p, body, ndjson = false) {
  const res = await fetch(`${es}${p}`, { method, headers: { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' }, body });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

async function count(pattern) {
  const r = await esJson('POST', `/${pattern}/_count?allow_no_indices=true&ignore_unavailable=true`, '{"query":{"match_all":{}}}');
  return r.body.count ?? 0;
}

async function deleteIndices(pattern) {
  const r = await esJson('GET', `/_cat/indices/${pattern}?h=index&format=json`);
  if (Array.isArray(r.body)) for (const { index } of r.body) await esJson('DELETE', `/${index}`);
}

/** CPU seconds the Elasticsearch node has used so far (its own process statistics). */
async function esCpuSeconds() {
  const r = await esJson('GET', '/_nodes/_local/stats/process?filter_path=nodes.*.process.cpu.total_in_millis');
  const node = Object.values(r.body?.nodes ?? {})[0];
  return node ? node.process.cpu.total_in_millis / 1000 : undefined;
}

/** Polls the count until it reaches `expected` or stops changing for `quietMs`; returns the series. */
async function watch(pattern, expected, { quietMs = 20_000, timeoutMs = 300_000, pid } = {}) {
  const t0 = Date.now();
  const series = [];
  let last = -1;
  let lastChange = Date.now();
  let first;
  let final;
  let peak;
  let cpuAtFirst;
  let cpuAtFinal;
  let esCpuAtFirst;
  let esCpuAtFinal;
  for (;;) {
    let n;
    if (poll === 'stats') {
      const r = await esJson(
        'GET',
        `/${pattern}/_stats/indexing?allow_no_indices=true&ignore_unavailable=true&filter_path=_all.primaries.indexing.index_total`,
      );
      n = r.body?._all?.primaries?.indexing?.index_total ?? 0;
    } else {
      await esJson('POST', `/${pattern}/_refresh?allow_no_indices=true&ignore_unavailable=true`);
      n = await count(pattern);
    }
    const t = Date.now();
    if (pid) peak = peakRssMb(pid) ?? peak;
    series.push([(t - t0) / 1000, n]);
    const cpu = pid ? processCpu(pid) : undefined;
    const esCpu = await esCpuSeconds();
    if (n > 0 && first === undefined) {
      first = t;
      cpuAtFirst = cpu;
      esCpuAtFirst = esCpu;
    }
    if (n !== last) {
      last = n;
      lastChange = t;
      final = t;
      cpuAtFinal = cpu;
      esCpuAtFinal = esCpu;
    }
    if (n >= expected || t - lastChange > quietMs || t - t0 > timeoutMs) break;
    await sleep(250);
  }
  if (poll === 'stats') {
    // The counter counts index operations (a retried document twice); what counts is documents.
    await esJson('POST', `/${pattern}/_refresh?allow_no_indices=true&ignore_unavailable=true`);
    last = await count(pattern);
  }
  const seconds = first === undefined ? 0 : Math.max(0.001, (final - first) / 1000);
  const diff = (a, b) => (a === undefined || b === undefined ? undefined : +(b - a).toFixed(2));
  return {
    poll,
    indexed: last,
    seconds,
    spansPerSecond: first === undefined ? 0 : Math.round(last / seconds),
    series,
    peakRssMb: peak,
    // CPU used between the first and the last new document (within the 250 ms polling):
    // the process's share of the two cores, and the Elasticsearch node's.
    cpuSeconds: diff(cpuAtFirst, cpuAtFinal),
    esCpuSeconds: diff(esCpuAtFirst, esCpuAtFinal),
  };
}

/**
 * `target` (TLS mode): the topic and the stack; the collector then reaches Kafka and the store
 * through the stack's client-config.json alone, and the servers' CPU is counted over the run.
 */
async function runOurs(expected, target = undefined, { flags = extra, tag = '' } = {}) {
  const prefix = `${target ? `bench-pt-${target.topic.slice('bench-collector-'.length)}` : `bench-pt-${id}`}${tag}`;
  const from = target?.topic ?? topic;
  const connection = target ? ['--config', target.stack.configFile] : ['--kafka', brokers.join(','), '--es', es];
  const pids = target ? serverPids(target.stack) : undefined;
  const servers0 = pids ? serverCpu(pids) : undefined;
  // PINTRACE_BENCH_NODE_ARGS: extra node flags for our collector's process (e.g. --cpu-prof).
  const nodeArgs = (process.env.PINTRACE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      path.join(root, 'cli/bin/pintrace.js'),
      'collector',
      ...connection,
      '--topic',
      from,
      '--group-id',
      `${from}-ours${tag}`,
      '--index-prefix',
      prefix,
      '--index-replicas',
      '0',
      // 0: the collector picks a free port itself (a port probed here could be taken before it listens)
      '--metrics-port',
      '0',
      ...flags,
    ],
    {
      env: { ...process.env, PINTRACE_LOG_LEVEL: 'warn', ...(heapMb ? { NODE_OPTIONS: `--max-old-space-size=${heapMb}` } : {}) },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const started = Date.now();
  const result = await watch(`${prefix}-span-*`, expected, { pid: child.pid });
  result.wallSeconds = (Date.now() - started) / 1000;
  result.peakRssMb = peakRssMb(child.pid) ?? result.peakRssMb;
  result.totalCpuSeconds = processCpu(child.pid);
  if (target) Object.assign(result, threadGroupFields(threadCpu(child.pid)), serverCpuDelta(servers0, serverCpu(pids)));
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  await deleteIndices(`${prefix}-*`);
  for (const type of ['span', 'dependency', 'autocomplete']) await esJson('DELETE', `/_template/${prefix}-${type}_template`);
  return { name: 'pintrace collector', flags, heapMb: heapMb ? Number(heapMb) : undefined, ...result };
}

async function runZipkin(expected) {
  const jar = findJar();
  if (!jar) return { name: 'zipkin-server', skipped: 'jar not found (run pintrace up once, or set ZIPKIN_JAR)' };
  const prefix = `bench-zk-${id}`;
  const port = await freePort();
  const child = spawn('java', ['-Xmx512m', '-jar', jar], {
    env: {
      ...process.env,
      STORAGE_TYPE: 'elasticsearch',
      ES_HOSTS: es,
      ES_INDEX: prefix,
      ES_INDEX_REPLICAS: '0',
      KAFKA_BOOTSTRAP_SERVERS: brokers.join(','),
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `${topic}-zipkin`,
      QUERY_PORT: String(port),
      COLLECTOR_HTTP_ENABLED: 'false',
    },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const started = Date.now();
  const result = await watch(`${prefix}-span-*`, expected, { pid: child.pid, quietMs: 20_000, timeoutMs: 240_000 });
  result.wallSeconds = (Date.now() - started) / 1000;
  result.peakRssMb = peakRssMb(child.pid) ?? result.peakRssMb;
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  await deleteIndices(`${prefix}-*`);
  for (const type of ['span', 'dependency', 'autocomplete']) await esJson('DELETE', `/_template/${prefix}-${type}_template`);
  return { name: 'zipkin-server 3.6.1', jar: path.basename(jar), ...result };
}

/**
 * Bulk-indexes pre-built `action\ndocument\n` pairs into a fresh index (5,000 per request, 3 in
 * flight), refreshes, and reports what was indexed, how fast and the node's CPU, then drops the index.
 */
async function bulkLoad(name, index, pairs) {
  const batches = [];
  for (let i = 0; i < pairs.length; i += 5000) batches.push(pairs.slice(i, i + 5000).join(''));
  const esCpuBefore = await esCpuSeconds();
  const started = Date.now();
  let next = 0;
  let rejected = 0;
  await Promise.all(
    [0, 1, 2].map(async () => {
      while (next < batches.length) {
        const body = batches[next++];
        const r = await esJson('POST', `/${index}/_bulk`, body, true);
        if (r.body.errors) rejected += r.body.items.filter((it) => it.index.status >= 300).length;
      }
    }),
  );
  await esJson('POST', `/${index}/_refresh`);
  const seconds = (Date.now() - started) / 1000;
  const esCpuAfter = await esCpuSeconds();
  const indexed = await count(index);
  await esJson('DELETE', `/${index}`);
  return {
    name,
    indexed,
    rejected,
    seconds,
    spansPerSecond: Math.round(indexed / seconds),
    esCpuSeconds: esCpuBefore === undefined || esCpuAfter === undefined ? undefined : +(esCpuAfter - esCpuBefore).toFixed(2),
  };
}

async function runRaw(lines) {
  const index = `bench-raw-${id}`;
  await esJson(
    'PUT',
    `/${index}`,
    JSON.stringify({
      settings: { number_of_shards: 5, number_of_replicas: 0 },
      mappings: {
        dynamic: false,
        properties: { traceId: { type: 'keyword' }, name: { type: 'keyword' }, timestamp_millis: { type: 'date' }, duration: { type: 'long' } },
      },
    }),
  );
  return bulkLoad(
    'raw bulk ceiling',
    index,
    lines.map((l) => `{"index":{}}\n${l}\n`),
  );
}

/**
 * A second reference, measured like the raw ceiling: the same spans as the exact documents and
 * `_id`s zipkin (and we) write, bulk-indexed (5,000 per request, 3 in flight) into an index with
 * zipkin's span template (5 shards, 0 replicas). No collector runs: this is what the node can do
 * with Zipkin's format, so no Zipkin-exact writer can exceed it on the same node.
 */
async function runZipkinDocs(lines) {
  const index = `bench-zdoc-${id}`;
  const version = parseClusterVersion((await esJson('GET', '/')).body);
  const [span] = buildTemplates(version, { index: `bench-zdoc-${id}`, shards: 5, replicas: 0 });
  await esJson('PUT', `/${index}`, JSON.stringify({ settings: span.body.settings, mappings: span.body.mappings }));
  const docs = lines.map((l) => {
    const checked = checkSpan(JSON.parse(l));
    if (!checked.ok) throw new Error(checked.message);
    const doc = encodeSpanDocument(checked.span);
    return `{"index":{"_id":${JSON.stringify(doc.id)}}}\n${doc.body.toString('utf8')}\n`;
  });
  return bulkLoad('zipkin-document ceiling', index, docs);
}

async function main() {
  if (security) return runTls();
  if (redCompare) return runRed();
  const { messages, spans, lines } = burstMessages({ lines: true });
  await putBurst(topic, messages);
  console.error(`burst on ${topic}: ${MESSAGES} messages, ${spans} spans`);
  const results = [];
  if (runs('ours')) results.push(await runOurs(spans));
  if (runs('zipkin')) results.push(await runZipkin(spans));
  if (runs('raw')) results.push(await runRaw(lines));
  if (runs('zdoc')) results.push(await runZipkinDocs(lines));
  for (const r of results) {
    r.lost = r.indexed === undefined ? undefined : spans - r.indexed;
    console.error(JSON.stringify({ ...r, series: undefined }));
  }
  const by = (n) => results.find((r) => r.name.startsWith(n));
  const ours = by('pintrace');
  const zipkin = by('zipkin-server');
  const raw = by('raw');
  const zdoc = by('zipkin-document');
  const summary = {
    oursVsZipkin: ours && zipkin?.spansPerSecond ? +(ours.spansPerSecond / zipkin.spansPerSecond).toFixed(2) : undefined,
    oursVsRawCeiling: ours && raw?.spansPerSecond ? +(ours.spansPerSecond / raw.spansPerSecond).toFixed(2) : undefined,
    oursVsZipkinDocumentCeiling: ours && zdoc?.spansPerSecond ? +(ours.spansPerSecond / zdoc.spansPerSecond).toFixed(2) : undefined,
    zipkinDocumentCeilingVsRaw: zdoc && raw?.spansPerSecond ? +(zdoc.spansPerSecond / raw.spansPerSecond).toFixed(2) : undefined,
    oursCpuMicrosPerSpan: ours?.totalCpuSeconds && ours.indexed ? Math.round((ours.totalCpuSeconds * 1e6) / ours.indexed) : undefined,
  };
  console.error(JSON.stringify(summary));
  if (only !== 'all') return;
  const out = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      loadAverageAtEnd: os.loadavg().map((l) => +l.toFixed(2)),
      cpuModel: os.cpus()[0]?.model,
      memGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    burst: { messages: MESSAGES, spans, topicPartitions: 3 },
    results,
    summary,
  };
  writeResults(here, 'results.json', out);
  writeFileSync(
    path.join(here, 'throughput.svg'),
    barChart({
      title: `Burst of ${MESSAGES} messages / ${spans} spans into one Elasticsearch node: indexed spans/s`,
      unit: 'spans/s',
      groups: results
        .filter((r) => r.spansPerSecond)
        .map((r) => ({ label: `${r.name} (lost ${r.lost ?? 0})`, bars: [{ label: 'indexed spans/s', value: r.spansPerSecond }] })),
    }),
  );
}

/**
 * The burst as Kafka messages (one trace each), built once so that every run of a comparison gets
 * the same data; with `lines`, also each span as a JSON line, for the bulk-index ceilings.
 */
function burstMessages({ lines: withLines = false } = {}) {
  const messages = [];
  const lines = [];
  let spans = 0;
  for (const trace of burstTraces(MESSAGES, (Date.now() - 60_000) * 1000)) {
    spans += trace.length;
    if (withLines) for (const s of trace) lines.push(JSON.stringify(s));
    messages.push({ key: trace[0].traceId, value: JSON.stringify(trace) });
  }
  return { messages, spans, lines };
}

/**
 * Puts the burst on a new topic of 3 partitions before any consumer starts, 100 messages
 * (~400 KB) a send: a partition's record batch stays under the broker's 1 MB message.max.bytes.
 */
async function putBurst(onTopic, messages, { brokers: to = brokers, security: kafkaSecurity } = {}) {
  const admin = createAdmin(to, kafkaSecurity ? { security: kafkaSecurity } : undefined);
  await admin.ensureTopic(onTopic, 3);
  await admin.close();
  const producer = createProducer({ brokers: to, ...(kafkaSecurity ? { security: kafkaSecurity } : {}) });
  await producer.connect();
  for (let i = 0; i < messages.length; i += 100) await producer.send(onTopic, messages.slice(i, i + 100));
  await producer.disconnect();
}

/**
 * The cost of TLS for our collector: each round puts the same burst on a fresh topic of each
 * stack (not timed), then runs our collector on it; plaintext and SASL_SSL alternate which goes
 * first, so neither always meets the machine in the same state.
 */
async function runTls() {
  const stacks = loadStacks(security, { plain: opt('plain-config'), secure: opt('secure-config') });
  const { messages, spans } = burstMessages();
  const load0 = loadavg();
  const rows = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? security : [...security].reverse();
    for (const mode of order) {
      const stack = stacks[mode];
      const runTopic = `bench-collector-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
      await putBurst(runTopic, messages, { brokers: stack.brokers, security: stack.kafka.security });
      es = stack.storeDirect;
      await sleep(2000); // let the producer's and broker's work settle out of the measured run
      rows.push(oursRow({ security: stack.protocol, round: r + 1 }, spans, await runOurs(spans, { topic: runTopic, stack })));
    }
  }
  const summary = security.map((mode) => ({
    security: stacks[mode].protocol,
    ...oursSummary(
      rows.filter((r) => r.security === stacks[mode].protocol),
      { cpuSplit: true },
    ),
  }));
  let ratios;
  if (security.length === 2) {
    const [plain, tls] = ['PLAINTEXT', 'SASL_SSL'].map((p) => summary.find((s) => s.security === p));
    ratios = {
      spansPerSecSaslSslVsPlaintext: round(tls.spansPerSecond / plain.spansPerSecond),
      cpuPerSpanSaslSslVsPlaintext: round(tls.cpuUsPerSpan / plain.cpuUsPerSpan),
      ...pairedRatios(
        rows,
        (x) => x.security === 'PLAINTEXT',
        (x) => x.security === 'SASL_SSL',
        { rate: 'spansPerSecond', cpu: 'cpuUsPerSpan' },
      ),
      targetAtMost15PercentFewerSpansPerSec: tls.spansPerSecond / plain.spansPerSecond >= 0.85,
    };
  }
  const out = {
    date: new Date().toISOString(),
    machine: machine(),
    loadAverage: loadAverage(load0, rows),
    stacks: Object.fromEntries(Object.entries(stacks).map(([mode, s]) => [mode, stackSummary(s, root, { store: s.store, polledAt: s.storeDirect })])),
    burst: { messages: MESSAGES, spans, topicPartitions: 3 },
    rounds,
    flags: extra,
    summary,
    ratios,
    runs: rows,
  };
  writeResults(here, 'tls-results.json', out);
  writeFileSync(
    path.join(here, 'tls-throughput.svg'),
    barChart({
      title: `Collector, ${spans.toLocaleString('en')}-span burst: plaintext vs SASL_SSL + TLS store (medians of ${rounds})`,
      unit: 'spans per second',
      groups: [
        { label: 'indexed spans/s (wall)', bars: summary.map((s) => ({ label: s.security, value: s.spansPerSecond })) },
        { label: 'spans per CPU-second of our process', bars: summary.map((s) => ({ label: s.security, value: Math.round(1e6 / s.cpuUsPerSpan) })) },
      ],
    }),
  );
  console.log(JSON.stringify({ summary, ratios, loadAverage: out.loadAverage }, null, 2));
}

/** One run of ours as a results row after `labels`; logged without its series, which the file keeps. */
function oursRow(labels, spans, res) {
  const row = {
    ...labels,
    ...res,
    series: undefined,
    lost: spans - res.indexed,
    cpuUsPerSpan: res.indexed ? round((res.totalCpuSeconds * 1e6) / res.indexed, 1) : undefined,
    loadavg: os.loadavg()[0],
  };
  console.error(JSON.stringify(row));
  return { ...row, series: res.series };
}

/**
 * Medians over runs `rs` of ours; `cpuSplit` adds where the CPU went (our threads, the broker,
 * the TLS front), `maxRss` the largest peak RSS of the runs.
 */
function oursSummary(rs, { cpuSplit = false, maxRss = false } = {}) {
  const m = (k) => median(rs.map((r) => r[k]));
  const split = ['mainCpuSeconds', 'librdkafkaCpuSeconds', 'otherCpuSeconds', 'kafkaCpuSeconds', 'frontCpuSeconds'];
  return {
    runs: rs.length,
    spansPerSecond: Math.round(m('spansPerSecond')),
    spansPerSecondRange: [Math.min(...rs.map((r) => r.spansPerSecond)), Math.max(...rs.map((r) => r.spansPerSecond))],
    cpuUsPerSpan: round(m('cpuUsPerSpan'), 1),
    totalCpuSeconds: round(m('totalCpuSeconds'), 2),
    cpuSecondsFirstToLast: round(m('cpuSeconds'), 2),
    ...(cpuSplit ? Object.fromEntries(split.map((k) => [k, round(m(k), 2)])) : {}),
    esCpuSeconds: round(m('esCpuSeconds'), 2),
    peakRssMb: m('peakRssMb'),
    ...(maxRss ? { maxPeakRssMb: Math.max(...rs.map((r) => r.peakRssMb)) } : {}),
    lost: rs.reduce((n, r) => n + r.lost, 0),
  };
}

const machine = () => ({ cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGb: Math.round(os.totalmem() / 2 ** 30), node: process.version });

/**
 * The cost of the RED aggregation (issue 16): the same burst consumed `--rounds` times with it
 * off and on (`--red-window-ms`), the two alternating which goes first, each run with its own
 * group and index prefix on the one topic. Compares indexed spans/s (the store's pace: noisy on a
 * shared node), our process's CPU per span (what the aggregation adds) and peak RSS. Writes
 * red-results.json and red-throughput.svg (results.json is left alone).
 */
async function runRed() {
  const { messages, spans } = burstMessages();
  await putBurst(topic, messages);
  console.error(`burst on ${topic}: ${MESSAGES} messages, ${spans} spans`);
  // both explicit, whatever the collector's default is
  const modes = { off: [...extra, '--red-window-ms', '0'], on: [...extra, '--red-window-ms', redWindowMs] };
  const load0 = loadavg();
  const rows = [];
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
      await sleep(2000); // the last run's indices deleted, the store's merges of them settled
      rows.push(oursRow({ aggregation: mode, round: r + 1 }, spans, await runOurs(spans, undefined, { flags: modes[mode], tag: `-${mode}${r + 1}` })));
    }
  }
  const summary = ['off', 'on'].map((mode) => ({
    aggregation: mode,
    flags: modes[mode],
    ...oursSummary(
      rows.filter((r) => r.aggregation === mode),
      { maxRss: true },
    ),
  }));
  const [off, on] = summary;
  const ratios = {
    spansPerSecOnVsOff: round(on.spansPerSecond / off.spansPerSecond),
    cpuPerSpanOnVsOff: round(on.cpuUsPerSpan / off.cpuUsPerSpan),
    ...pairedRatios(
      rows,
      (x) => x.aggregation === 'off',
      (x) => x.aggregation === 'on',
      { rate: 'spansPerSecond', cpu: 'cpuUsPerSpan' },
    ),
    targetOnAtLeast09xOff: on.spansPerSecond / off.spansPerSecond >= 0.9,
    targetRssUnder256Mb: Math.max(off.maxPeakRssMb, on.maxPeakRssMb) < 256,
  };
  const out = {
    date: new Date().toISOString(),
    machine: machine(),
    loadAverage: loadAverage(load0, rows),
    burst: { messages: MESSAGES, spans, topicPartitions: 3 },
    rounds,
    redWindowMs: Number(redWindowMs),
    summary,
    ratios,
    runs: rows,
  };
  writeResults(here, 'red-results.json', out);
  writeFileSync(
    path.join(here, 'red-throughput.svg'),
    barChart({
      title: `Collector, ${spans.toLocaleString('en')}-span burst: RED aggregation off vs on (medians of ${rounds})`,
      unit: 'spans per second',
      groups: [
        { label: 'indexed spans/s (wall)', bars: summary.map((s) => ({ label: s.aggregation, value: s.spansPerSecond })) },
        { label: 'spans per CPU-second of our process', bars: summary.map((s) => ({ label: s.aggregation, value: Math.round(1e6 / s.cpuUsPerSpan) })) },
      ],
    }),
  );
  console.log(JSON.stringify({ summary, ratios, loadAverage: out.loadAverage }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
