import { describe, expect, it } from 'vitest';
import { createRegistry } from '@pintrace/runtime';
import { startLagProbe } from '../src/lag-probe.js';
import { createCollectorMetrics } from '../src/metrics.js';
import { silentLog } from './fakes.js';

async function lagOf(registry: ReturnType<typeof createRegistry>): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'pintrace_collector_consumer_lag');
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.partition), v.value]));
}

describe('consumer lag probe', () => {
  it('reports end − committed for the assigned partitions only, forgets revoked ones, keeps values while Kafka fails', async () => {
    const registry = createRegistry();
    const metrics = createCollectorMetrics(registry);
    let assigned = [0, 1];
    let ends = [
      { partition: 0, offset: '100' },
      { partition: 1, offset: '50' },
      { partition: 2, offset: '70' },
    ];
    let failing = false;
    const admin = {
      endOffsets: async () => {
        if (failing) throw new Error('broker down');
        return ends;
      },
      // partition 1 has no commit yet: its whole log is lag
      groupOffsets: async () => [
        { partition: 0, offset: '40' },
        { partition: 1, offset: '-1' },
        { partition: 2, offset: '70' },
      ],
    };
    const consumer = { assignment: () => assigned.map((partition) => ({ topic: 'zipkin', partition })) };
    const probe = startLagProbe({ admin, consumer, metrics, log: silentLog, groupId: 'g', topic: 'zipkin', intervalMs: 60_000 });
    try {
      await probe.probe();
      expect(await lagOf(registry)).toEqual({ 0: 60, 1: 50 });

      // intake paused, messages keep arriving: the lag grows although nothing is fetched
      ends = [
        { partition: 0, offset: '180' },
        { partition: 1, offset: '50' },
        { partition: 2, offset: '70' },
      ];
      await probe.probe();
      expect(await lagOf(registry)).toEqual({ 0: 140, 1: 50 });

      failing = true;
      await probe.probe();
      expect(await lagOf(registry)).toEqual({ 0: 140, 1: 50 });

      failing = false;
      assigned = [0];
      await probe.probe();
      expect(await lagOf(registry)).toEqual({ 0: 140 });
    } finally {
      probe.stop();
    }
  });
});
