import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentArgs, intakeArgs } from './support/part-args.js';
import { pythonBin, pythonPeer } from './support/peers.js';
import { freePort, metric } from './support/ports.js';
import { privateDevstack } from './support/private-devstack.js';
import { startPart, type RunningPart } from './support/processes.js';
import { eventually, uniqueName } from './support/servers.js';

/**
 * The intake's durability under crashes, with the Python OpenTelemetry SDK as the client: the agent
 * is SIGKILLed 10 times while the SDK exports SPANS spans over OTLP/HTTP to a spool bounded small
 * enough that it answers 429 under the load. Every span whose export the agent acknowledged (the
 * SDK's exporter records them) must be in Kafka, and spans refused with 429 or cut off by a kill are
 * retried by the SDK. Private broker on block 1.5 (:24092).
 */
const run = promisify(execFile);
const SPANS = Number(process.env.PINTRACE_INTAKE_FAULT_SPANS ?? 200_000);
const KILLS = 10;
const pd = privateDevstack('otlp-intake-faults', 1.5, ['kafka'], { heap: '384m', partitions: 6 });

describe('agent intake under SIGKILL', () => {
  const topic = uniqueName('intake-faults');
  const spansDir = mkdtempSync(path.join(tmpdir(), 'pintrace-intake-faults-'));
  const acked = path.join(spansDir, '..', `${path.basename(spansDir)}-acked.txt`);
  let otlpPort = 0;
  let metricsPort = 0;
  let agent: RunningPart | undefined;

  const startAgent = () =>
    startPart(
      'intake-faults-agent',
      agentArgs(
        { kafka: pd.kafka, topic, spansDir, metricsPort, pollIntervalMs: 100 },
        ...intakeArgs({ otlpHttpPort: otlpPort, otlpGrpcPort: 0, zipkinPort: 0 }),
        '--intake-spool-max-bytes',
        String(512 * 1024),
        '--intake-retry-after-seconds',
        '1',
      ),
    );

  beforeAll(async () => {
    await pd.start();
    otlpPort = await freePort();
    metricsPort = await freePort();
  });

  afterAll(async () => {
    await agent?.stop();
    await pd.stop();
  });

  it(`loses no acknowledged span over ${KILLS} SIGKILLs while the Python SDK exports ${SPANS} spans, and the refused ones arrive after the SDK's retries`, async () => {
    agent = startAgent();
    await eventually(async () => ((await fetch(`http://127.0.0.1:${metricsPort}/health`)).ok ? true : undefined), { what: 'agent up' });
    const started = Date.now();
    const load = run(
      pythonBin,
      [pythonPeer, 'load', '--endpoint', `http://127.0.0.1:${otlpPort}/v1/traces`, '--service', 'py-load', '--spans', String(SPANS), '--acked', acked],
      {
        timeout: 900_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    let loadDone = false;
    void load.finally(() => (loadDone = true)).catch(() => undefined);
    let throttled = 0;
    let kills = 0;
    while (kills < KILLS && !loadDone) {
      await new Promise((r) => setTimeout(r, 1000 + Math.random() * 2000));
      throttled += await metric(metricsPort, 'pintrace_agent_intake_requests_total', { result: 'throttled' }).catch(() => 0);
      await agent.kill();
      kills++;
      agent = startAgent();
      await eventually(async () => ((await fetch(`http://127.0.0.1:${metricsPort}/health`)).status > 0 ? true : undefined), {
        what: 'agent restarted',
        intervalMs: 50,
      });
    }
    const { stdout, stderr } = await load;
    const summary = /acked (\d+) failed (\d+)/.exec(stdout);
    expect(summary, stderr.slice(-2000)).not.toBeNull();
    throttled += await metric(metricsPort, 'pintrace_agent_intake_requests_total', { result: 'throttled' }).catch(() => 0);

    const ackedIds = new Set(
      readFileSync(acked, 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(' ')[1]),
    );
    expect(ackedIds.size).toBe(Number(summary![1]));
    const inKafka = await eventually(
      async () => {
        const { stdout: dump } = await run('kcat', ['-b', pd.kafka, '-t', topic, '-C', '-e', '-q', '-f', '%s\n'], {
          timeout: 120_000,
          maxBuffer: 1024 * 1024 * 1024,
        });
        const ids = new Set<string>();
        for (const m of dump.matchAll(/"id":"([0-9a-f]{16})"/g)) ids.add(m[1]!);
        const missing = [...ackedIds].filter((id) => !ids.has(id)).length;
        return missing === 0 ? ids : undefined;
      },
      { what: 'every acknowledged span in Kafka', timeoutMs: 180_000, intervalMs: 3000 },
    );
    const report = {
      spans: SPANS,
      acked: ackedIds.size,
      failed: Number(summary![2]),
      kills,
      throttled,
      inKafka: inKafka.size,
      seconds: (Date.now() - started) / 1000,
    };
    console.log(`intake faults: ${JSON.stringify(report)}`);
    writeFileSync(path.join(tmpdir(), 'agent-intake-faults.json'), JSON.stringify(report, null, 2));
    expect(kills).toBe(KILLS);
    expect(ackedIds.size).toBe(SPANS);
    expect(throttled).toBeGreaterThan(0);
  }, 1_200_000);
});
