export {
  resolveConfig,
  ConfigError,
  commonOptions,
  brokersSchema,
  httpUrlSchema,
  topicSchema,
  dirSchema,
  portSchema,
  positiveIntSchema,
  nonNegativeIntSchema,
} from './config.js';
export type { OptionSpec, OptionSet, ConfigOf, ConfigSources } from './config.js';
export { booleanSchema } from './boolean.js';
export {
  kafkaConnectionOptions,
  storeConnectionOptions,
  kafkaConnectionOf,
  storeConnectionOf,
  redactUrl,
  PLAINTEXT,
  KAFKA_CLIENTS,
  KAFKA_SECURITY_PROTOCOLS,
  KAFKA_SASL_MECHANISMS,
} from './connection.js';
export type {
  KafkaConnection,
  KafkaSecurity,
  KafkaSasl,
  KafkaTls,
  KafkaSecurityProtocol,
  KafkaSaslMechanism,
  KafkaClientChoice,
  StoreConnection,
} from './connection.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { createRegistry, startOpsServer } from './ops-server.js';
export type { OpsServer, OpsServerOptions, HealthReport } from './ops-server.js';
export { Shutdown } from './shutdown.js';
export {
  DEFAULT_MEMORY_BUDGET_MB,
  heapGrowingPercentOption,
  limitHeapGrowth,
  memoryBudgetLaunch,
  memoryBudgetOption,
  relaunchWithinMemoryBudget,
} from './memory-budget.js';
export type { MemoryBudgetLaunch } from './memory-budget.js';
export { PintraceError, isRetryable } from './errors.js';
export type { PintraceErrorOptions } from './errors.js';
export { Backoff, backoffDelayMs, sleep } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
