/** The collector's configuration: the shared options plus its own. */
import { z } from 'zod';
import { commonOptions, portSchema, positiveIntSchema, type ConfigOf, type OptionSpec } from '@pintrace/runtime';

/**
 * Elasticsearch index prefix rules that zipkin-server enforces or ES requires: lower case, no
 * `:` `#` or other forbidden characters, not starting with `_ - +`, at most 231 bytes.
 */
const indexPrefixSchema = z
  .string()
  .trim()
  .min(1, 'expected a non-empty index prefix')
  .refine((s) => Buffer.byteLength(s, 'utf8') <= 231, 'an index prefix is at most 231 bytes')
  .refine((s) => s === s.toLowerCase(), 'Elasticsearch index names are lower case')
  .refine((s) => !/[\\/*?"<>| ,#:]/.test(s), 'an index prefix cannot contain \\ / * ? " < > | space , # :')
  .refine((s) => !/^[-_+]/.test(s), 'an index prefix cannot start with - _ or +');

const nonNegativeIntSchema = z.coerce.number().int('expected a whole number').min(0, 'expected a number >= 0');

const groupIdSchema = z.string().trim().min(1, 'expected a consumer group id');

export const collectorOptions = {
  kafka: commonOptions.kafka,
  es: commonOptions.es,
  topic: commonOptions.topic,
  groupId: {
    key: 'groupId',
    flag: 'group-id',
    env: 'PINTRACE_COLLECTOR_GROUP_ID',
    description: 'Kafka consumer group; collectors in one group share the partitions',
    default: 'pintrace-collector',
    schema: groupIdSchema,
  } satisfies OptionSpec<string>,
  indexPrefix: {
    key: 'indexPrefix',
    flag: 'index-prefix',
    env: 'PINTRACE_ES_INDEX_PREFIX',
    description: "Elasticsearch index prefix, as zipkin-server's ES_INDEX",
    default: 'zipkin',
    schema: indexPrefixSchema,
  } satisfies OptionSpec<string>,
  indexShards: {
    key: 'indexShards',
    flag: 'index-shards',
    env: 'PINTRACE_ES_INDEX_SHARDS',
    description: "Shards per daily index in the templates, as zipkin-server's ES_INDEX_SHARDS",
    default: '5',
    schema: positiveIntSchema,
  } satisfies OptionSpec<number>,
  indexReplicas: {
    key: 'indexReplicas',
    flag: 'index-replicas',
    env: 'PINTRACE_ES_INDEX_REPLICAS',
    description: "Replicas per daily index in the templates, as zipkin-server's ES_INDEX_REPLICAS",
    default: '1',
    schema: nonNegativeIntSchema,
  } satisfies OptionSpec<number>,
  metricsPort: {
    key: 'metricsPort',
    flag: 'metrics-port',
    env: 'PINTRACE_COLLECTOR_METRICS_PORT',
    description: 'Port of /metrics and /health (0 picks a free port)',
    default: '9414',
    schema: portSchema,
  } satisfies OptionSpec<number>,
  batchSize: {
    key: 'batchSize',
    flag: 'batch-size',
    env: 'PINTRACE_COLLECTOR_BATCH_SIZE',
    description: 'Most spans in one Elasticsearch bulk request',
    default: '1000',
    schema: positiveIntSchema,
  } satisfies OptionSpec<number>,
  batchTimeMs: {
    key: 'batchTimeMs',
    flag: 'batch-time-ms',
    env: 'PINTRACE_COLLECTOR_BATCH_TIME_MS',
    description: 'Longest a span waits for others to share its bulk request, in ms',
    default: '200',
    schema: nonNegativeIntSchema,
  } satisfies OptionSpec<number>,
};

export type CollectorConfig = ConfigOf<typeof collectorOptions>;
