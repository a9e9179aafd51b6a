/**
 * The command lines the integration tests start `pintrace collector` and `pintrace agent` with
 * (`startPart(name, collectorArgs({...}))`): one field per flag, so a test names only what it sets,
 * and a flag it leaves out keeps the part's own default. The flags come out in a fixed order
 * (the CLI does not care), then whatever the test adds after them.
 */

/** Where a part finds Kafka: `--kafka HOSTS`, or nothing here when `--config FILE` says it. */
interface KafkaFlag {
  /** --kafka (brokers joined by commas). */
  kafka?: string;
  /** --config (a devstack's client-config.json: Kafka and the store with their security). */
  config?: string;
}

export interface CollectorFlags extends KafkaFlag {
  /** --es */
  es?: string;
  /** Other flags that say where and how to reach the store (--es-*, --storage ...), after --es. */
  store?: readonly string[];
  topic: string;
  groupId: string;
  indexPrefix?: string;
  indexReplicas?: number;
  indexShards?: number;
  batchSize?: number;
  groupWindowMs?: number;
  dependencyFlushMs?: number;
  sessionTimeoutMs?: number;
  metricsPort: number;
}

/**
 * The fault tests' collector timings: traces close 300 ms after their last span and links are
 * written every 500 ms, so a run settles in seconds, and a killed member's partitions move to the
 * survivor within a 6 s session.
 */
export const FAULT_TIMINGS = { groupWindowMs: 300, dependencyFlushMs: 500, sessionTimeoutMs: 6000 } as const;

/** `collector` and its flags, then `extra`. */
export function collectorArgs(f: CollectorFlags, ...extra: string[]): string[] {
  return [
    'collector',
    ...connection(f),
    ...flag('--es', f.es),
    ...(f.store ?? []),
    '--topic',
    f.topic,
    '--group-id',
    f.groupId,
    ...flag('--index-prefix', f.indexPrefix),
    ...flag('--index-replicas', f.indexReplicas),
    ...flag('--index-shards', f.indexShards),
    ...flag('--batch-size', f.batchSize),
    ...flag('--group-window-ms', f.groupWindowMs),
    ...flag('--dependency-flush-ms', f.dependencyFlushMs),
    ...flag('--session-timeout-ms', f.sessionTimeoutMs),
    '--metrics-port',
    String(f.metricsPort),
    ...extra,
  ];
}

export interface AgentFlags extends KafkaFlag {
  topic: string;
  deadLetterTopic?: string;
  spansDir: string;
  stateDir?: string;
  metricsPort: number;
  batchLines?: number;
  deciderTopic?: string;
  deciderFile?: string;
  pollIntervalMs?: number;
  retentionSeconds?: number;
}

/** `agent` and its flags, then `extra`. */
export function agentArgs(f: AgentFlags, ...extra: string[]): string[] {
  return [
    'agent',
    ...connection(f),
    '--topic',
    f.topic,
    ...flag('--dead-letter-topic', f.deadLetterTopic),
    '--spans-dir',
    f.spansDir,
    ...flag('--state-dir', f.stateDir),
    '--metrics-port',
    String(f.metricsPort),
    ...flag('--batch-lines', f.batchLines),
    ...flag('--decider-topic', f.deciderTopic),
    ...flag('--decider-file', f.deciderFile),
    ...flag('--poll-interval-ms', f.pollIntervalMs),
    ...flag('--retention-seconds', f.retentionSeconds),
    ...extra,
  ];
}

export interface IntakeFlags {
  otlpHttpPort: number;
  otlpGrpcPort: number;
  zipkinPort: number;
}

/** The agent's span intake on, with its three ports (0: any free port). */
export function intakeArgs(f: IntakeFlags): string[] {
  return ['--intake', 'true', '--otlp-http-port', String(f.otlpHttpPort), '--otlp-grpc-port', String(f.otlpGrpcPort), '--zipkin-port', String(f.zipkinPort)];
}

function connection(f: KafkaFlag): string[] {
  return [...flag('--config', f.config), ...flag('--kafka', f.kafka)];
}

function flag(name: string, value: string | number | undefined): string[] {
  return value === undefined ? [] : [name, String(value)];
}
