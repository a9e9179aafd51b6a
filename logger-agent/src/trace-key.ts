/**
 * Kafka key for a (normalised) trace id: @pintrace/model's traceKafkaKey, the one key every
 * producer uses. The trace id itself comes from @pintrace/model's traceIdOfLine.
 */
export { traceKafkaKey as traceKey } from '@pintrace/model';
