import { collectorOptions, type CollectorConfig } from '@pintrace/collector';
import { resolveConfig } from '@pintrace/runtime';

/** Where an in-process test collector reads and writes. */
export interface CollectorTarget {
  kafka: string[];
  es: string;
  topic: string;
  indexPrefix: string;
}

/**
 * The config of a collector a test starts in its own process (`startCollector`): the defaults,
 * one shard and no replica, a metrics port the OS picks, the group `<topic>-g`, and timings short
 * enough for a test to settle in seconds (traces close 200 ms after their last span, links every
 * 300 ms, a partial batch after 50 ms); `overrides` last.
 */
export function testCollectorConfig(target: CollectorTarget, overrides: Partial<CollectorConfig> = {}): CollectorConfig {
  return {
    ...resolveConfig(collectorOptions, { env: {} }),
    ...target,
    groupId: `${target.topic}-g`,
    indexShards: 1,
    indexReplicas: 0,
    metricsPort: 0,
    groupWindowMs: 200,
    dependencyFlushMs: 300,
    batchTimeMs: 50,
    ...overrides,
  };
}
