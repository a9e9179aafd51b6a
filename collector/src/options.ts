/** The collector's configuration: the shared options plus its own. */
import { z } from 'zod';
import {
  commonOptions,
  kafkaConnectionOptions,
  storeConnectionOptions,
  booleanSchema,
  heapGrowingPercentOption,
  memoryBudgetOption,
  portSchema,
  positiveIntSchema,
  nonNegativeIntSchema,
} from '@pintrace/runtime';
import type { ConfigOf, OptionSpec } from '@pintrace/runtime';

const groupIdSchema = z.string().trim().min(1, 'expected a consumer group id');

const baseOptions = {
  kafka: commonOptions.kafka,
  ...kafkaConnectionOptions,
  es: commonOptions.es,
  ...storeConnectionOptions,
  topic: commonOptions.topic,
  groupId: {
    key: 'groupId',
    flag: 'group-id',
    env: 'PINTRACE_COLLECTOR_GROUP_ID',
    description: 'Kafka consumer group; collectors in one group share the partitions',
    default: 'pintrace-collector',
    schema: groupIdSchema,
  } satisfies OptionSpec<string>,
  indexPrefix: commonOptions.indexPrefix,
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
    default: '5000',
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

/** A list as a JSON array, or a string split on `separator`. */
const listSchema = (separator: string) =>
  z
    .union([z.array(z.string()), z.string()])
    .transform((v) => {
      if (Array.isArray(v)) return v;
      const t = v.trim();
      if (t.startsWith('[')) return JSON.parse(t) as string[];
      return t.split(separator);
    })
    .pipe(z.array(z.string()).transform((a) => a.map((s) => s.trim()).filter(Boolean)));

const jsonSchema = <T extends z.ZodTypeAny>(inner: T) =>
  z
    .union([z.string(), z.record(z.unknown()), z.array(z.unknown())])
    .transform((v, ctx) => {
      if (typeof v !== 'string') return v;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected JSON' });
        return z.NEVER;
      }
    })
    .pipe(inner);

const rateSchema = z.coerce.number().min(0, 'a rate is within 0..1').max(1, 'a rate is within 0..1');

const stageOptions = {
  sessionTimeoutMs: {
    key: 'sessionTimeoutMs',
    flag: 'session-timeout-ms',
    env: 'PINTRACE_COLLECTOR_SESSION_TIMEOUT_MS',
    description: 'Kafka group session timeout: how soon the group reassigns the partitions of a crashed member',
    default: '30000',
    schema: z.coerce.number().int('expected a whole number').min(3000, 'Kafka brokers refuse session timeouts below 3000 ms by default'),
  } satisfies OptionSpec<number>,
  deadLetterTopic: {
    key: 'deadLetterTopic',
    flag: 'dead-letter-topic',
    env: 'PINTRACE_COLLECTOR_DEAD_LETTER_TOPIC',
    description: 'Topic for messages that cannot be decoded (default <topic>-dlq; "none" only counts them)',
    schema: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic is 1-249 of [A-Za-z0-9._-]'),
  } satisfies OptionSpec<string>,
  autocompleteKeys: {
    key: 'autocompleteKeys',
    flag: 'autocomplete-keys',
    env: 'PINTRACE_AUTOCOMPLETE_KEYS',
    description: "Tag keys whose values get autocomplete documents, as zipkin-server's AUTOCOMPLETE_KEYS (comma list)",
    default: '',
    schema: listSchema(','),
  } satisfies OptionSpec<string[]>,
  groupWindowMs: {
    key: 'groupWindowMs',
    flag: 'group-window-ms',
    env: 'PINTRACE_COLLECTOR_GROUP_WINDOW_MS',
    description: 'A trace is closed and written after this long without a new span (0 = group within each batch)',
    default: '2000',
    schema: nonNegativeIntSchema,
  } satisfies OptionSpec<number>,
  groupMaxAgeMs: {
    key: 'groupMaxAgeMs',
    flag: 'group-max-age-ms',
    env: 'PINTRACE_COLLECTOR_GROUP_MAX_AGE_MS',
    description: 'A trace is closed this long after its first span at the latest',
    default: '30000',
    schema: positiveIntSchema,
  } satisfies OptionSpec<number>,
  groupMaxSpansPerTrace: {
    key: 'groupMaxSpansPerTrace',
    flag: 'group-max-spans-per-trace',
    env: 'PINTRACE_COLLECTOR_GROUP_MAX_SPANS_PER_TRACE',
    description: 'A trace reaching this many spans is closed early (counted)',
    default: '10000',
    schema: positiveIntSchema,
  } satisfies OptionSpec<number>,
  groupMaxTraces: {
    key: 'groupMaxTraces',
    flag: 'group-max-traces',
    env: 'PINTRACE_COLLECTOR_GROUP_MAX_TRACES',
    description: 'Most open traces; beyond it the least recently active is closed early (counted)',
    default: '50000',
    schema: positiveIntSchema,
  } satisfies OptionSpec<number>,
  maxHeldSpans: {
    key: 'maxHeldSpans',
    flag: 'max-held-spans',
    env: 'PINTRACE_COLLECTOR_MAX_HELD_SPANS',
    description: 'Spans between intake and a durable write above which Kafka intake pauses (resumes below half)',
    default: '40000',
    schema: positiveIntSchema,
  } satisfies OptionSpec<number>,
  sinkConcurrency: {
    key: 'sinkConcurrency',
    flag: 'sink-concurrency',
    env: 'PINTRACE_COLLECTOR_SINK_CONCURRENCY',
    description: 'Elasticsearch bulk requests in flight at once',
    default: '3',
    schema: positiveIntSchema,
  } satisfies OptionSpec<number>,
  adjustFinagle: {
    key: 'adjustFinagle',
    flag: 'adjust-finagle',
    env: 'PINTRACE_COLLECTOR_ADJUST_FINAGLE',
    description: 'Backfill timestamp and duration of Finagle spans (tag *finagle.version)',
    default: 'true',
    schema: booleanSchema,
  } satisfies OptionSpec<boolean>,
  adjustFinagleIssue343: {
    key: 'adjustFinagleIssue343',
    flag: 'adjust-finagle-issue343',
    env: 'PINTRACE_COLLECTOR_ADJUST_FINAGLE_ISSUE343',
    description: 'Remove "finagle.flush" annotations of memcache spans (finagle#343)',
    default: 'false',
    schema: booleanSchema,
  } satisfies OptionSpec<boolean>,
  serviceAliases: {
    key: 'serviceAliases',
    flag: 'service-aliases',
    env: 'PINTRACE_COLLECTOR_SERVICE_ALIASES',
    description: 'Service renames as JSON, e.g. {"frontend-canary":"frontend"}',
    schema: jsonSchema(z.record(z.string())),
  } satisfies OptionSpec<Record<string, string>>,
  spanNamePatterns: {
    key: 'spanNamePatterns',
    flag: 'span-name-patterns',
    env: 'PINTRACE_COLLECTOR_SPAN_NAME_PATTERNS',
    description: 'Span name rewrites as JSON, e.g. [{"pattern":"/[0-9]+","replacement":"/{id}"}]',
    schema: jsonSchema(z.array(z.object({ pattern: z.string(), replacement: z.string() }))),
  } satisfies OptionSpec<Array<{ pattern: string; replacement: string }>>,
  filters: {
    key: 'filters',
    flag: 'filters',
    env: 'PINTRACE_COLLECTOR_FILTERS',
    description: 'Drop rules separated by ";" (service=NAME, remoteService=NAME, span=NAME, annotation=VALUE, tag=KEY[=VALUE])',
    default: '',
    schema: listSchema(';'),
  } satisfies OptionSpec<string[]>,
  tailSampleRate: {
    key: 'tailSampleRate',
    flag: 'tail-sample-rate',
    env: 'PINTRACE_COLLECTOR_TAIL_SAMPLE_RATE',
    description: 'Enables tail sampling: share (0..1) of traces kept besides error, debug and slow ones',
    schema: rateSchema,
  } satisfies OptionSpec<number>,
  tailLatencyMs: {
    key: 'tailLatencyMs',
    flag: 'tail-latency-ms',
    env: 'PINTRACE_COLLECTOR_TAIL_LATENCY_MS',
    description: 'With tail sampling: always keep traces lasting at least this long',
    schema: positiveIntSchema,
  } satisfies OptionSpec<number>,
  tailDecisionCache: {
    key: 'tailDecisionCache',
    flag: 'tail-decision-cache',
    env: 'PINTRACE_COLLECTOR_TAIL_DECISION_CACHE',
    description: 'With tail sampling: trace decisions remembered for late spans',
    default: '100000',
    schema: positiveIntSchema,
  } satisfies OptionSpec<number>,
  dependencies: {
    key: 'dependencies',
    flag: 'dependencies',
    env: 'PINTRACE_COLLECTOR_DEPENDENCIES',
    description: 'Write streaming dependency links to <index-prefix>-dependency-*',
    default: 'true',
    schema: booleanSchema,
  } satisfies OptionSpec<boolean>,
  heapGrowingPercent: heapGrowingPercentOption('collector', { default: 20 }),
  memoryBudgetMb: memoryBudgetOption('collector'),
  redWindowMs: {
    key: 'redWindowMs',
    flag: 'red-window-ms',
    env: 'PINTRACE_COLLECTOR_RED_WINDOW_MS',
    description:
      'RED analytics window: calls, errors and durations per service and endpoint, scaled by the sampling rate, ' +
      'written to <index-prefix>-red-* and /metrics every window (0 = off; on, it cost no measurable spans/s on bench/collector)',
    default: '10000',
    schema: nonNegativeIntSchema,
  } satisfies OptionSpec<number>,
  dependencyFlushMs: {
    key: 'dependencyFlushMs',
    flag: 'dependency-flush-ms',
    env: 'PINTRACE_COLLECTOR_DEPENDENCY_FLUSH_MS',
    description: 'How often changed dependency-link totals are written',
    default: '5000',
    schema: positiveIntSchema,
  } satisfies OptionSpec<number>,
};

export const collectorOptions = { ...baseOptions, ...stageOptions };

export type CollectorConfig = ConfigOf<typeof collectorOptions>;
