import { z } from 'zod';
import { intakeOptions } from './intake/options.js';
import {
  commonOptions,
  kafkaConnectionOptions,
  booleanSchema,
  dirSchema,
  DEFAULT_MEMORY_BUDGET_MB,
  heapGrowingPercentOption,
  memoryBudgetOption,
  portSchema,
  positiveIntSchema,
  nonNegativeIntSchema,
  type ConfigOf,
  type OptionSpec,
} from '@pintrace/runtime';

/** The agent's heap growth with its intake on, unless told otherwise (runtime's memory-budget.ts). */
export const INTAKE_HEAP_GROWING_PERCENT = 100;

const optionalTopicSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, 'expected a Kafka topic name (letters, digits, ".", "_", "-")')
  .optional();

/** The agent's options: the shared Kafka / topic / spans-dir ones plus its own. */
export const agentOptions = {
  kafka: commonOptions.kafka,
  ...kafkaConnectionOptions,
  topic: commonOptions.topic,
  spansDir: commonOptions.spansDir,
  stateDir: {
    key: 'stateDir',
    flag: 'state-dir',
    env: 'PINTRACE_AGENT_STATE_DIR',
    description: 'Directory for watermarks; default <spans-dir>/.pintrace-agent',
    schema: dirSchema.optional(),
  } satisfies OptionSpec<string | undefined>,
  metricsPort: {
    key: 'metricsPort',
    flag: 'metrics-port',
    env: 'PINTRACE_AGENT_METRICS_PORT',
    description: 'Port of /metrics and /health (0 = any free port)',
    default: '9413',
    schema: portSchema,
  },
  memoryBudgetMb: memoryBudgetOption('agent', `${DEFAULT_MEMORY_BUDGET_MB} with --intake true, 0 without`),
  heapGrowingPercent: heapGrowingPercentOption('agent', { whenUnset: `${INTAKE_HEAP_GROWING_PERCENT} with --intake true, 0 without` }),
  metricsHost: {
    key: 'metricsHost',
    flag: 'metrics-host',
    env: 'PINTRACE_AGENT_METRICS_HOST',
    description: 'Address /metrics and /health listen on',
    default: '127.0.0.1',
    schema: z.string().trim().min(1, 'expected a host name or address'),
  },
  batchBytes: {
    key: 'batchBytes',
    flag: 'batch-bytes',
    env: 'PINTRACE_AGENT_BATCH_BYTES',
    description: 'Most bytes read per batch (the file is read, shipped and committed a batch at a time)',
    default: String(4 * 1024 * 1024),
    schema: positiveIntSchema.pipe(
      z
        .number()
        .min(1024, 'expected at least 1024 bytes')
        .max(64 * 1024 * 1024, 'expected at most 64 MiB'),
    ),
  },
  batchLines: {
    key: 'batchLines',
    flag: 'batch-lines',
    env: 'PINTRACE_AGENT_BATCH_LINES',
    description: 'Most span lines per batch (a crash re-sends at most one batch)',
    default: '16000',
    schema: positiveIntSchema,
  },
  maxLineBytes: {
    key: 'maxLineBytes',
    flag: 'max-line-bytes',
    env: 'PINTRACE_AGENT_MAX_LINE_BYTES',
    description: 'Longest span line shipped; longer lines are skipped and dead-lettered (keep below the broker message.max.bytes)',
    default: '983040',
    schema: positiveIntSchema.pipe(z.number().min(1024, 'expected at least 1024 bytes')),
  },
  pollIntervalMs: {
    key: 'pollIntervalMs',
    flag: 'poll-interval-ms',
    env: 'PINTRACE_AGENT_POLL_INTERVAL_MS',
    description: 'Rescan interval when no file events arrive (ms)',
    default: '500',
    schema: positiveIntSchema,
  },
  rotationGraceMs: {
    key: 'rotationGraceMs',
    flag: 'rotation-grace-ms',
    env: 'PINTRACE_AGENT_ROTATION_GRACE_MS',
    description: 'How long a rotated file stays open for a late last line while the new file is empty (ms)',
    default: '1000',
    schema: nonNegativeIntSchema,
  },
  checkJson: {
    key: 'checkJson',
    flag: 'check-json',
    env: 'PINTRACE_AGENT_CHECK_JSON',
    description:
      "Check that each line is valid JSON (without building it) and skip the invalid ones, so one bad line cannot spoil a trace's message (true|false)",
    default: 'true',
    schema: booleanSchema,
  },
  compression: {
    key: 'compression',
    flag: 'compression',
    env: 'PINTRACE_AGENT_COMPRESSION',
    description: 'Kafka batch compression: none, gzip, snappy, lz4 (no lz4 with --kafka-client kafkajs)',
    default: 'snappy',
    schema: z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']),
  },
  lingerMs: {
    key: 'lingerMs',
    flag: 'linger-ms',
    env: 'PINTRACE_AGENT_LINGER_MS',
    description: 'When a read finds less than a full batch, wait this long for more lines before sending (ms; 0 = send at once)',
    default: '5',
    schema: nonNegativeIntSchema,
  },
  deadLetterTopic: {
    key: 'deadLetterTopic',
    flag: 'dead-letter-topic',
    env: 'PINTRACE_AGENT_DEAD_LETTER_TOPIC',
    description: 'Topic for lines that are not spans (raw line, headers with reason/stream/file/offset); unset = count and drop',
    schema: optionalTopicSchema,
  },
  retentionSeconds: {
    key: 'retentionSeconds',
    flag: 'retention-seconds',
    env: 'PINTRACE_AGENT_RETENTION_SECONDS',
    description: 'Delete rotated files that were shipped completely and are older than this (s); 0 = keep them (default)',
    default: '0',
    schema: nonNegativeIntSchema,
  },
  deciderTopic: {
    key: 'deciderTopic',
    flag: 'decider-topic',
    env: 'PINTRACE_DECIDER_TOPIC',
    description:
      'Compacted topic of fleet decider values (`pintrace decider set --fleet`, default topic pintrace-decider) mirrored into --decider-file; unset = off',
    schema: optionalTopicSchema,
  },
  deciderFile: {
    key: 'deciderFile',
    flag: 'decider-file',
    env: 'PINTRACE_DECIDER_FILE',
    description: 'Local decider file the tracer reads, kept in step with --decider-topic',
    default: './var/config/decider.json',
    schema: z.string().trim().min(1, 'expected a file path'),
  },
  ...intakeOptions,
} satisfies Record<string, OptionSpec>;

export type AgentConfig = ConfigOf<typeof agentOptions>;
