#!/usr/bin/env node
/**
 * Query latency of the ui-proxy against zipkin-server 3.6.1, side by side on the same
 * Elasticsearch data, in one run.
 *
 *   npx tsc -b && node bench/ui/run.mjs [--traces 500] [--requests 300] [--quick]
 *
 * Data: randomised traces over five services named `<tag>-*` (about 8 spans each), written with
 * our ElasticsearchSpanWriter into the default `zipkin` indices the devstack's zipkin-server reads,
 * plus dependency-link documents. The ui-proxy runs as its own process (`pintrace ui`), as the
 * JVM does. Each scenario warms both servers, then sends requests one at a time, alternating
 * between the servers request by request so both see the same cluster state; p50/p99 of the
 * client-side latency (full response read). Writes results.json and p50.svg / p99.svg here.
 * RED: the same traces aggregated into 10 s windows by the collector's own RedWindows and written
 * with ElasticsearchRedWindowStore into `zipkin-red-*`; the scenario "RED series vs trace search"
 * puts the ui-proxy's `/api/v2/pintrace/red` (one service, 62 min in 1 min steps) beside
 * zipkin-server's `/api/v2/traces?serviceName=` (issue 16's target: p50 no slower), and the health
 * page of that service is timed on the ui-proxy alone.
 * Servers: PINTRACE_ES_URL (http://127.0.0.1:9200), PINTRACE_ZIPKIN_URL (http://127.0.0.1:9411).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RedWindows } from '@pintrace/collector';
import { createEsHttp, ElasticsearchRedWindowStore, ElasticsearchSpanWriter, IndexNameFormatter } from '@pintrace/storage';
import { benchArgs } from '../lib/args.mjs';
import { freePort } from '../lib/processes.mjs';
import { writeResults } from '../lib/results.mjs';
import { barChart } from '../lib/svg-chart.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const { opt, has } = benchArgs();
const quick = has('quick');
const TRACES = Number(opt('traces', quick ? 100 : 500));
const REQUESTS = Number(opt('requests', quick ? 60 : 300));
const WARMUP = quick ? 10 : 50;
const esUrl = process.env.PINTRACE_ES_URL ?? 'http://127.0.0.1:9200';
const zipkinUrl = process.env.PINTRACE_ZIPKIN_URL ?? 'http://127.0.0.1:9411';
const tag = `bu${Date.now().toString(36)}`;
const DENSE_SPAN_NAMES = 20;
const DENSE_COLLECTORS = 3;
const BUSY = 'RED series of a busy service vs trace search';
const hex = (n) => randomBytes(n).toString('hex');

function dataset() {
  const services = ['gateway', 'users', 'orders', 'db', 'cache'].map((s) => `${tag}-${s}`);
  const [gateway, users, orders, db, cache] = services;
  const now = Date.now();
  const traces = [];
  for (let t = 0; t < TRACES; t++) {
    const traceId = hex(16);
    const ts = (now - Math.floor(Math.random() * 3_600_000)) * 1000;
    const root = hex(8);
    const ep = (serviceName) => ({ serviceName, ipv4: '10.0.0.1' });
    const error = Math.random() < 0.1;
    const spans = [
      {
        traceId,
        id: root,
        kind: 'SERVER',
        name: 'get /home',
        timestamp: ts,
        duration: 1000 + Math.floor(Math.random() * 900_000),
        localEndpoint: ep(gateway),
        tags: { 'http.method': 'GET', 'http.path': '/home', ...(error ? { error: 'true' } : {}) },
      },
    ];
    for (const [callee, name] of [
      [users, 'get /me'],
      [orders, 'get /orders'],
    ]) {
      const id = hex(8);
      const at = ts + 10 + Math.floor(Math.random() * 100);
      spans.push({
        traceId,
        parentId: root,
        id,
        kind: 'CLIENT',
        name,
        timestamp: at,
        duration: 500,
        localEndpoint: ep(gateway),
        remoteEndpoint: { serviceName: callee },
      });
      spans.push({
        traceId,
        parentId: root,
        id,
        kind: 'SERVER',
        name,
        timestamp: at + 1,
        duration: 498,
        localEndpoint: ep(callee),
        tags: { 'http.method': 'GET', 'http.path': `/${name.split('/')[1]}` },
        shared: true,
      });
      const leaf = Math.random() < 0.5 ? db : cache;
      spans.push({
        traceId,
        parentId: id,
        id: hex(8),
        kind: 'CLIENT',
        name: 'query',
        timestamp: at + 2,
        duration: 100,
        localEndpoint: ep(callee),
        remoteEndpoint: { serviceName: leaf },
        annotations: [{ timestamp: at + 3, value: 'wr' }],
      });
    }
    traces.push(spans);
  }
  const links = [
    [gateway, users],
    [gateway, orders],
    [users, db],
    [users, cache],
    [orders, db],
    [orders, cache],
  ];
  return { services, traces, links };
}

async function write(data) {
  const http = createEsHttp({ url: esUrl });
  const writer = new ElasticsearchSpanWriter({
    http,
    refresh: 'wait_for',
    templates: { shards: 1, replicas: 0, red: true },
    autocomplete: { keys: ['http.method', 'http.path', 'error'] },
  });
  const result = await writer.write(data.traces.flat());
  await writer.shutdown();
  if (result.failed.length) throw new Error(`writes failed: ${JSON.stringify(result.failed[0])}`);
  const index = new IndexNameFormatter().formatTypeAndTimestampForInsert('dependency', '-', Date.now());
  const lines = data.links.flatMap(([parent, child]) => [
    JSON.stringify({ index: { _index: index, _id: `${parent}|${child}` } }),
    JSON.stringify({ id: `${parent}|${child}`, parent, child, callCount: 100, errorCount: 3 }),
  ]);
  await http.request({ method: 'POST', path: '/_bulk?refresh=wait_for', body: `${lines.join('\n')}\n`, ndjson: true });
  // RED windows of the same spans, as a collector with --red-window-ms 10000 writes them
  const windows = new RedWindows({ windowMs: 10_000, collectorId: `bench-${tag}`, maxOpenWindows: 10_000 });
  const docs = [...windows.add(data.traces.flat(), Date.now()).closed, ...windows.closeAll()];
  const red = new ElasticsearchRedWindowStore({ http });
  await red.write(docs);
  // and a busy service, as a fleet writes it: every 10 s window of the last hour, DENSE_SPAN_NAMES
  // span names, DENSE_COLLECTORS collectors (one document each per window and key)
  const dense = [];
  const first = Math.floor((Date.now() - 3_600_000) / 10_000) * 10_000;
  for (let w = first; w < Date.now(); w += 10_000) {
    for (let n = 0; n < DENSE_SPAN_NAMES; n++) {
      for (let c = 0; c < DENSE_COLLECTORS; c++) {
        const buckets = new Array(19).fill(0);
        buckets[3 + (n % 8)] = 90;
        buckets[12] = 10;
        dense.push({
          timestamp_millis: w,
          windowMs: 10_000,
          collector: `bench-${c}`,
          flush: 0,
          serviceName: `${tag}-dense`,
          spanName: `get /e${n}`,
          kind: 'SERVER',
          remoteServiceName: '',
          calls: 100,
          errors: 2,
          durationSumUs: 0,
          buckets,
        });
      }
    }
  }
  for (let i = 0; i < dense.length; i += 5_000) await red.write(dense.slice(i, i + 5_000));
  docs.dense = dense.length;
  red.shutdown();
  await http.request({ method: 'POST', path: '/zipkin*red-*/_refresh' });
  await http.close();
  return docs;
}

async function startProxy() {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(root, 'cli', 'bin', 'pintrace.js'), 'ui', '--port', String(port), '--es', esUrl, '--autocomplete-keys', 'http.method,http.path,error'],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PINTRACE_LOG_LEVEL: 'warn' } },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/api/v2/services`)).ok) return { url, stop: () => child.kill('SIGTERM') };
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('pintrace ui did not start');
}

async function timed(url) {
  const t0 = process.hrtime.bigint();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function main() {
  const data = dataset();
  process.stderr.write(`writing ${data.traces.length} traces (${data.traces.flat().length} spans) under ${tag}-*\n`);
  const redDocs = await write(data);
  const proxy = await startProxy();
  const [gateway, users] = data.services;
  const ids = data.traces.map((t) => t[0].traceId);
  const end = () => Date.now() + 60_000;
  const scenarios = {
    services: () => '/api/v2/services',
    'span names': () => `/api/v2/spans?serviceName=${users}`,
    'traces by service': () => `/api/v2/traces?serviceName=${gateway}&endTs=${end()}&limit=10`,
    'traces by tag': () => `/api/v2/traces?serviceName=${gateway}&annotationQuery=error&endTs=${end()}&limit=10`,
    'traces by duration': () => `/api/v2/traces?serviceName=${gateway}&minDuration=500000&endTs=${end()}&limit=10`,
    'trace by id': (i) => `/api/v2/trace/${ids[i % ids.length]}`,
    dependencies: () => `/api/v2/dependencies?endTs=${end()}&lookback=86400000`,
    // not the same query on both: the service's RED series (ours) beside the trace search a user
    // of zipkin-server runs for the same service (issue 16: the RED API no slower)
    'RED series vs trace search': {
      'zipkin-server 3.6.1': () => `/api/v2/traces?serviceName=${gateway}&endTs=${end()}&limit=10`,
      'pintrace ui-proxy': () => `/api/v2/pintrace/red?serviceName=${gateway}&endTs=${end()}&lookback=3720000&step=60000`,
    },
    // a stress bound, kept out of `results` (and so out of the README's headline): a busy service's
    // hour (DENSE_SPAN_NAMES × DENSE_COLLECTORS documents per 10 s window, 21,660 in all) beside the
    // same small search; zipkin-server's side does not grow with it
    [BUSY]: {
      'zipkin-server 3.6.1': () => `/api/v2/traces?serviceName=${gateway}&endTs=${end()}&limit=10`,
      'pintrace ui-proxy': () => `/api/v2/pintrace/red?serviceName=${tag}-dense&endTs=${end()}&lookback=3600000&step=60000`,
    },
  };
  const servers = { 'zipkin-server 3.6.1': zipkinUrl, 'pintrace ui-proxy': proxy.url };
  const summary = (xs) => {
    xs.sort((a, b) => a - b);
    return { p50: +pct(xs, 50).toFixed(2), p99: +pct(xs, 99).toFixed(2), mean: +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2) };
  };
  // the RED answer must hold the data before it is timed: every gateway root span counted once
  const series = await (await fetch(`${proxy.url}${scenarios['RED series vs trace search']['pintrace ui-proxy']()}`)).json();
  const redCalls = series.reduce((n, s) => n + s.calls, 0);
  if (redCalls !== data.traces.length * 3) throw new Error(`RED series of ${gateway} holds ${redCalls} calls, expected ${data.traces.length * 3}`);
  const results = {};
  const stress = {};
  const ourOnly = {};
  try {
    for (const [name, scenario] of Object.entries(scenarios)) {
      const pathOf = (server, i) => (typeof scenario === 'function' ? scenario(i) : scenario[server](i));
      for (let i = 0; i < WARMUP; i++) for (const [server, base] of Object.entries(servers)) await timed(base + pathOf(server, i));
      const samples = Object.fromEntries(Object.keys(servers).map((s) => [s, []]));
      for (let i = 0; i < REQUESTS; i++) {
        const order = i % 2 === 0 ? Object.entries(servers) : Object.entries(servers).reverse();
        for (const [server, base] of order) samples[server].push(await timed(base + pathOf(server, i)));
      }
      const into = name === BUSY ? stress : results;
      into[name] = Object.fromEntries(Object.entries(samples).map(([server, xs]) => [server, summary(xs)]));
      process.stderr.write(
        `${name.padEnd(20)} ${Object.entries(into[name])
          .map(([s, r]) => `${s}: p50 ${r.p50} ms p99 ${r.p99} ms`)
          .join(' | ')}\n`,
      );
    }
    // the health page of one service (one search of its windows, drawn on the server); ours alone
    const pagePath = `/zipkin/pintrace/health?serviceName=${gateway}&lookback=3600000`;
    for (let i = 0; i < WARMUP; i++) await timed(proxy.url + pagePath);
    const pageSamples = [];
    for (let i = 0; i < REQUESTS; i++) pageSamples.push(await timed(proxy.url + pagePath));
    ourOnly['health page (one service, 1 h)'] = summary(pageSamples);
    process.stderr.write(`health page          pintrace ui-proxy: p50 ${ourOnly['health page (one service, 1 h)'].p50} ms\n`);
  } finally {
    proxy.stop();
  }
  const out = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    data: {
      traces: data.traces.length,
      spans: data.traces.flat().length,
      services: data.services.length,
      redWindowDocuments: redDocs.length,
      busyServiceRedWindowDocuments: redDocs.dense,
    },
    method: `${WARMUP} warm-up requests per server, then ${REQUESTS} sequential requests per server, interleaved; client-side latency, full body read`,
    results,
    stress,
    ourOnly,
  };
  writeResults(here, 'results.json', out);
  for (const p of ['p50', 'p99']) {
    const groups = Object.entries(results).map(([label, r]) => ({ label, bars: Object.entries(r).map(([server, v]) => ({ label: server, value: v[p] })) }));
    writeFileSync(path.join(here, `${p}.svg`), barChart({ title: `API query latency ${p} (ms, lower is better)`, unit: 'ms', groups, width: 900 }));
  }
}

main().catch((err) => {
  process.stderr.write(`bench/ui: ${err.stack ?? err}\n`);
  process.exit(1);
});
