/** `pintrace sampler`'s configuration: the shared connection options plus the control loop's. */
import { z } from 'zod';
import {
  commonOptions,
  kafkaConnectionOptions,
  storeConnectionOptions,
  portSchema,
  positiveIntSchema,
  topicSchema,
  type ConfigOf,
  type OptionSpec,
} from '@pintrace/runtime';
import { DEFAULT_DECIDER_TOPIC } from '@pintrace/sampler';
import { collectorOptions } from './options.js';

const percentSchema = z.coerce.number().gt(0, 'expected a percent > 0').max(100, 'expected a percent <= 100');

export const samplerOptions = {
  kafka: commonOptions.kafka,
  ...kafkaConnectionOptions,
  es: commonOptions.es,
  ...storeConnectionOptions,
  // the same option (flag, variable) as the collector that writes the windows
  indexPrefix: collectorOptions.indexPrefix,
  deciderTopic: {
    key: 'deciderTopic',
    flag: 'decider-topic',
    env: 'PINTRACE_DECIDER_TOPIC',
    description: 'The compacted fleet decider topic the computed rates are published to (and hand-set values read from)',
    default: DEFAULT_DECIDER_TOPIC,
    schema: topicSchema,
  } satisfies OptionSpec<string>,
  targetTracesPerSecond: {
    key: 'targetTracesPerSecond',
    flag: 'target-traces-per-second',
    env: 'PINTRACE_SAMPLER_TARGET_TRACES_PER_SECOND',
    description: 'Traces per second each endpoint (service + root http.path or span name) should keep',
    default: '1',
    schema: z.coerce.number().gt(0, 'expected a number of traces per second > 0'),
  } satisfies OptionSpec<number>,
  minSampleRate: {
    key: 'minSampleRate',
    flag: 'min-sample-rate',
    env: 'PINTRACE_SAMPLER_MIN_SAMPLE_RATE',
    description: 'Floor of a computed rate, percent: even the busiest endpoint keeps this',
    default: '0.01',
    schema: percentSchema,
  } satisfies OptionSpec<number>,
  maxSampleRate: {
    key: 'maxSampleRate',
    flag: 'max-sample-rate',
    env: 'PINTRACE_SAMPLER_MAX_SAMPLE_RATE',
    description: 'Ceiling of a computed rate, percent: what a rare endpoint gets',
    default: '100',
    schema: percentSchema,
  } satisfies OptionSpec<number>,
  hysteresis: {
    key: 'hysteresis',
    flag: 'sampler-hysteresis',
    env: 'PINTRACE_SAMPLER_HYSTERESIS',
    description: 'A computed rate changes only when the new proposal is off by more than this fraction (0.2 = ±20 %)',
    default: '0.2',
    schema: z.coerce.number().min(0, 'expected a fraction from 0 to < 1').lt(1, 'expected a fraction from 0 to < 1'),
  } satisfies OptionSpec<number>,
  intervalMs: {
    key: 'intervalMs',
    flag: 'sampler-interval-ms',
    env: 'PINTRACE_SAMPLER_INTERVAL_MS',
    description: 'How often rates are recomputed and published, in ms',
    default: '10000',
    schema: positiveIntSchema,
  } satisfies OptionSpec<number>,
  lookbackMs: {
    key: 'lookbackMs',
    flag: 'sampler-lookback-ms',
    env: 'PINTRACE_SAMPLER_LOOKBACK_MS',
    description: 'Closed RED windows of this span of time feed each computation, in ms (longer = steadier, slower to follow)',
    default: '60000',
    schema: positiveIntSchema,
  } satisfies OptionSpec<number>,
  forgetAfterMs: {
    key: 'forgetAfterMs',
    flag: 'sampler-forget-after-ms',
    env: 'PINTRACE_SAMPLER_FORGET_AFTER_MS',
    description:
      'A computed rate whose endpoint (or service) has had no traffic for this long, in ms, is removed from the decider topic (0 keeps every one for ever)',
    default: '3600000',
    schema: z.coerce.number().int('expected a whole number').min(0, 'expected a number of ms >= 0'),
  } satisfies OptionSpec<number>,
  metricsPort: {
    key: 'metricsPort',
    flag: 'metrics-port',
    env: 'PINTRACE_SAMPLER_METRICS_PORT',
    description: 'Port of /metrics and /health (0 picks a free port)',
    default: '9415',
    schema: portSchema,
  } satisfies OptionSpec<number>,
};

export type SamplerConfig = ConfigOf<typeof samplerOptions>;
