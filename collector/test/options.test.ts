import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '@pintrace/runtime';
import { collectorOptions } from '../src/options.js';

describe('collector options', () => {
  it('has the documented defaults', () => {
    const c = resolveConfig(collectorOptions, { env: {} });
    expect(c).toMatchObject({
      kafka: ['127.0.0.1:9092'],
      es: 'http://127.0.0.1:9200',
      topic: 'zipkin',
      groupId: 'pintrace-collector',
      indexPrefix: 'zipkin',
      indexShards: 5,
      indexReplicas: 1,
      metricsPort: 9414,
      batchSize: 5000,
      batchTimeMs: 200,
      sinkConcurrency: 3,
      heapGrowingPercent: 20,
      memoryBudgetMb: 256,
      redWindowMs: 10000,
    });
  });

  it('rejects an index prefix Elasticsearch would refuse, naming the flag', () => {
    expect(() => resolveConfig(collectorOptions, { env: {}, flags: { indexPrefix: 'Zip:kin' } })).toThrow(ConfigError);
    expect(() => resolveConfig(collectorOptions, { env: {}, flags: { indexPrefix: '_zipkin' } })).toThrow(/--index-prefix/);
  });
});
