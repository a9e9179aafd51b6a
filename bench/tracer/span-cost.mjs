/**
 * Cost per span, side by side in one process: ours (with encode + file append), the OpenTelemetry
 * JS SDK (BasicTracerProvider + BatchSpanProcessor, with a no-op exporter as in the issue's
 * reference figure, and with a Zipkin-JSON-to-file exporter), and zipkin-js (BatchRecorder,
 * JSON_V2 to file).
 *
 * Each run makes N spans (start, one attribute, end) in chunks of 1,000, yielding to the event
 * loop between chunks so background exporters run as they would in a service, then flushes. The
 * cost per span = CPU time of the process (user + system, all threads, incl. the flush) / N:
 * everything the tracer does for the span, on and off the request path; CPU time rather than wall
 * time, so a busy machine and I/O waits do not count. "wall" is the wall time per span, "path" the
 * synchronous time inside the chunks only (what a request waits for). Best of 5 runs (by CPU)
 * after a warm-up. Unsampled: the same with a 0 % sampler.
 *
 *   node bench/tracer/span-cost.mjs [N]
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { otelSdk, pintrace, zipkinJs } from './peers.mjs';

const N = Number(process.argv[2] ?? 200_000);
const CHUNK = 1000;
const RUNS = 5;

async function once(t, n) {
  let path = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let done = 0; done < n; done += CHUNK) {
    const s = process.hrtime.bigint();
    for (let i = 0; i < CHUNK; i++) t.one(i);
    path += Number(process.hrtime.bigint() - s);
    await yieldLoop();
  }
  await t.flush();
  const total = Number(process.hrtime.bigint() - started);
  const used = process.cpuUsage(cpu);
  return { totalNs: ((used.user + used.system) * 1000) / n, wallNs: total / n, pathNs: path / n };
}

/** Warm-up, then RUNS rounds with the tracers interleaved (load changes hit all alike); best by CPU. */
export async function measureAll(makers, n = N) {
  const tracers = makers.map((make) => make());
  const best = tracers.map(() => undefined);
  for (const t of tracers) await once(t, Math.min(n, 100_000));
  for (let r = 0; r < RUNS; r++) {
    for (let i = 0; i < tracers.length; i++) {
      const m = await once(tracers[i], n);
      if (!best[i] || m.totalNs < best[i].totalNs) best[i] = m;
    }
  }
  const rows = [];
  for (let i = 0; i < tracers.length; i++) {
    const stats = tracers[i].stats();
    await tracers[i].close();
    rows.push({
      tracer: tracers[i].name,
      cpuUs: +(best[i].totalNs / 1000).toFixed(3),
      wallUs: +(best[i].wallNs / 1000).toFixed(3),
      pathUs: +(best[i].pathNs / 1000).toFixed(3),
      written: stats.written,
      dropped: stats.dropped ?? 0,
    });
  }
  return rows;
}

export async function spanCost(n = N) {
  const sampled = await measureAll([() => pintrace(100), () => otelSdk(100, { encode: false }), () => otelSdk(100, { encode: true }), () => zipkinJs(100)], n);
  const unsampled = await measureAll([() => pintrace(0), () => otelSdk(0, { encode: false }), () => zipkinJs(0)], n * 5);
  return { sampled, unsampled };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await spanCost();
  console.table(result.sampled);
  console.table(result.unsampled);
}
