/**
 * Acceptance on a private Kafka (test/support/private-devstack.ts, block 2 → 127.0.0.1:29092;
 * the shared devstack is never touched):
 * - a decider value set with `pintrace decider set --fleet` reaches the decider files of two
 *   agents with different state dirs (the delay from the acknowledged set to each file is
 *   measured), and while the broker is down both files keep the last value;
 * - the broker is stopped for 60 s while a service keeps writing spans: nothing is lost, the agent
 *   catches up after the restart and its RSS stays bounded.
 * Counts go to stdout and test/artifacts/agent-outage.json.
 * Run alone: npx vitest run --project integration test/agent-outage.test.ts
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countArrivals, rssMb, seqLines } from './support/agent-load.js';
import { agentArgs } from './support/part-args.js';
import { freePort, metric } from './support/ports.js';
import { privateDevstack } from './support/private-devstack.js';
import { startPart, type RunningPart } from './support/processes.js';
import { eventually, uniqueName } from './support/servers.js';

const OUTAGE_MS = 60_000;
const LINES_PER_SEC = 5000;
const RSS_BOUND_MB = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const readValues = (file: string): Record<string, number> | undefined => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  } catch {
    return undefined;
  }
};

describe('logger agent against a broker that goes away (private devstack)', () => {
  const pd = privateDevstack('agent-faults', 2, ['kafka']);
  const brokers = [pd.kafka];
  const parts: RunningPart[] = [];
  const root = mkdtempSync(path.join(tmpdir(), 'pintrace-agent-outage-'));
  const topic = uniqueName('agent-outage');
  const deciderTopic = uniqueName('agent-decider');
  const results: Record<string, unknown> = { test: 'agent-outage', date: new Date().toISOString(), brokers };
  const hosts = ['a', 'b'].map((h) => ({
    name: h,
    spansDir: path.join(root, h, 'spans'),
    stateDir: path.join(root, h, 'state'),
    deciderFile: path.join(root, h, 'config', 'decider.json'),
    port: 0,
    agent: undefined as RunningPart | undefined,
  }));
  const startAgent = (h: (typeof hosts)[number], tag: string) => {
    h.agent = startPart(
      `agent-outage-${h.name}-${tag}`,
      agentArgs({
        kafka: brokers.join(','),
        topic,
        spansDir: h.spansDir,
        stateDir: h.stateDir,
        metricsPort: h.port,
        deciderTopic,
        deciderFile: h.deciderFile,
        pollIntervalMs: 200,
      }),
    );
    parts.push(h.agent);
    return h.agent;
  };
  const fleetSet = async (name: string, value: string) => {
    const cli = startPart(`decider-fleet-${value}`, ['decider', 'set', name, value, '--fleet', '--kafka', brokers.join(','), '--decider-topic', deciderTopic]);
    return { code: await cli.exited, at: Date.now(), log: cli.logFile };
  };
  const mirroring = (h: (typeof hosts)[number]) =>
    eventually(async () => (readFileSync(h.agent!.logFile, 'utf8').includes('mirroring fleet decider values') ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 100,
      what: `agent ${h.name} mirroring the decider topic`,
    });

  beforeAll(async () => {
    await pd.start(['kafka']);
    for (const h of hosts) {
      mkdirSync(h.spansDir, { recursive: true });
      mkdirSync(path.dirname(h.deciderFile), { recursive: true });
      h.port = await freePort();
    }
    writeFileSync(hosts[0].deciderFile, JSON.stringify({ 'local.only': 7 }) + '\n');
  }, 300_000);
  afterAll(async () => {
    await Promise.all(parts.map((p) => p.kill()));
    await pd.stop(['kafka']);
    mkdirSync(path.join(process.cwd(), 'test', 'artifacts'), { recursive: true });
    writeFileSync(path.join(process.cwd(), 'test', 'artifacts', 'agent-outage.json'), JSON.stringify(results, null, 2) + '\n');
    rmSync(root, { recursive: true, force: true });
  }, 120_000);

  it('a value set with --fleet reaches the decider files of two agents (delay measured)', async () => {
    for (const h of hosts) startAgent(h, '1');
    await Promise.all(hosts.map(mirroring));
    const delays: number[] = [];
    for (const value of ['0.3', '1.5', '0.7']) {
      const set = await fleetSet('pintrace.sample_rate', value);
      expect(set.code, `decider set --fleet (log ${set.log})`).toBe(0);
      for (const h of hosts) {
        await eventually(async () => (readValues(h.deciderFile)?.['pintrace.sample_rate'] === Number(value) ? true : undefined), {
          timeoutMs: 30_000,
          intervalMs: 5,
          what: `${value} in ${h.name}'s decider file`,
        });
        delays.push(Date.now() - set.at);
      }
    }
    // A tombstone (`unset --fleet`) removes a key from every host's file.
    expect((await fleetSet('pintrace.sample_rate.checkout', '5')).code).toBe(0);
    for (const h of hosts)
      await eventually(async () => (readValues(h.deciderFile)?.['pintrace.sample_rate.checkout'] === 5 ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 20,
        what: `checkout in ${h.name}'s file`,
      });
    const unset = startPart('decider-fleet-unset', [
      'decider',
      'unset',
      'pintrace.sample_rate.checkout',
      '--fleet',
      '--kafka',
      brokers.join(','),
      '--decider-topic',
      deciderTopic,
    ]);
    expect(await unset.exited).toBe(0);
    for (const h of hosts)
      await eventually(async () => (readValues(h.deciderFile) && !('pintrace.sample_rate.checkout' in readValues(h.deciderFile)!) ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 20,
        what: `checkout removed from ${h.name}'s file`,
      });
    expect(readValues(hosts[0].deciderFile)).toEqual({ 'local.only': 7, 'pintrace.sample_rate': 0.7 });
    expect(readValues(hosts[1].deciderFile)).toEqual({ 'pintrace.sample_rate': 0.7 });
    const agentDelays = hosts.flatMap((h) => [...readFileSync(h.agent!.logFile, 'utf8').matchAll(/"delayMs":(\d+)/g)].map((m) => Number(m[1])));
    results.decider = { hosts: 2, sets: 3, delaysFromAckedSetToFileMs: delays, maxMs: Math.max(...delays), delaysFromRecordTimestampMs: agentDelays };
    process.stdout.write(
      `agent-outage decider: set → both files in ${delays.join(', ')} ms after the set was acknowledged (max ${Math.max(...delays)} ms); agents logged ${agentDelays.join(', ')} ms from the record timestamp\n`,
    );
  });

  it(`loses nothing while the broker is down ${OUTAGE_MS / 1000} s under load, catches up with bounded RSS, and the decider files keep the last value`, async () => {
    const [a, b] = hosts;
    const live = path.join(a.spansDir, 'svc.jsonl');
    let written = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const n = LINES_PER_SEC / 10;
        appendFileSync(live, seqLines(written, written + n));
        written += n;
        await sleep(100);
      }
    })();
    const rss = { before: 0, during: 0, after: 0 };
    let phase: keyof typeof rss = 'before';
    const sampler = setInterval(() => {
      rss[phase] = Math.max(rss[phase], rssMb(a.agent!.child.pid) ?? 0);
    }, 250);
    try {
      await eventually(async () => ((await metric(a.port, 'pintrace_agent_lines_total')) > 10_000 ? true : undefined), {
        timeoutMs: 60_000,
        what: 'shipping before the outage',
      });
      await sleep(3000);

      phase = 'during';
      const stoppedAt = Date.now();
      const writtenAtStop = written;
      await pd.stop(['kafka']);
      // With the broker down: a fleet set fails, and an agent restarted now leaves its file alone.
      const failedSet = await fleetSet('pintrace.sample_rate', '42');
      expect(failedSet.code).not.toBe(0);
      await b.agent!.stop();
      startAgent(b, '2');
      const left = OUTAGE_MS - (Date.now() - stoppedAt);
      if (left > 0) await sleep(left);
      const lagDuring = await metric(a.port, 'pintrace_agent_lag_bytes');
      for (const h of hosts) expect(readValues(h.deciderFile)?.['pintrace.sample_rate'], `${h.name}'s decider file during the outage`).toBe(0.7);
      expect(a.agent!.child.exitCode).toBeNull();
      expect(b.agent!.child.exitCode).toBeNull();

      const restarting = Date.now();
      await pd.start(['kafka']);
      const restartedAt = Date.now();
      phase = 'after';
      await sleep(5000);
      writing = false;
      await writer;
      await eventually(async () => ((await metric(a.port, 'pintrace_agent_lines_total')) >= written ? true : undefined), {
        timeoutMs: 180_000,
        what: `the agent to catch up to ${written} lines`,
      });
      const caughtUpMs = Date.now() - restartedAt;
      // An outage is not a stale client: no new producer session while the broker was down.
      const renewals = readFileSync(a.agent!.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('starting a new producer session'))
        .map((l) => Date.parse((JSON.parse(l) as { time: string }).time));
      expect(renewals.filter((t) => t >= stoppedAt && t < restarting)).toEqual([]);

      // Count everything on the broker with a fresh consumer.
      const counter = await countArrivals(brokers, topic, written);
      try {
        await eventually(async () => (counter.distinct() >= written ? true : undefined), {
          timeoutMs: 120_000,
          what: `all ${written} lines (have ${counter.distinct()})`,
        });
        await sleep(1000);
        // After the outage, fleet sets flow again (the mirrors rebuilt their consumers).
        expect((await fleetSet('pintrace.sample_rate', '2')).code).toBe(0);
        for (const h of hosts) {
          await eventually(async () => (readValues(h.deciderFile)?.['pintrace.sample_rate'] === 2 ? true : undefined), {
            timeoutMs: 60_000,
            intervalMs: 50,
            what: `2 in ${h.name}'s file`,
          });
        }
        results.outage = {
          outageMs: restartedAt - stoppedAt,
          linesPerSecond: LINES_PER_SEC,
          linesWritten: written,
          linesWrittenDuringOutage: written - writtenAtStop,
          lagBytesAtEndOfOutage: lagDuring,
          distinctArrived: counter.distinct(),
          missing: counter.missing().length,
          duplicates: counter.duplicates(),
          caughtUpAfterRestartMs: caughtUpMs,
          producerSessionsRenewed: renewals.length,
          agentRssMb: rss,
          rssBoundMb: RSS_BOUND_MB,
        };
        process.stdout.write(`agent-outage: ${JSON.stringify(results.outage)}\n`);
        expect(counter.missing()).toEqual([]);
        expect(Math.max(rss.before, rss.during, rss.after)).toBeLessThan(RSS_BOUND_MB);
      } finally {
        await counter.stop();
      }
    } finally {
      writing = false;
      clearInterval(sampler);
    }
  }, 600_000);
});
