import { createLogger, type Logger } from '@pintrace/runtime';

let shared: Logger | undefined;

/** The logger given in the options, else one shared "kafka" component logger. */
export function kafkaLogger(given: Logger | undefined): Logger {
  if (given) return given;
  shared ??= createLogger('kafka');
  return shared;
}

/** kafkajs log levels (kafkajs.logLevel): NOTHING 0, ERROR 1, WARN 2, INFO 4, DEBUG 5. */
type KafkajsLogEntry = { namespace: string; level: number; label: string; log: { message: string } & Record<string, unknown> };

/**
 * Broker answers that kafkajs logs as errors and librdkafka as warnings although each retries them
 * by itself: a topic being auto-created, a leader election, a rebalance, a group coordinator still
 * loading. They are expected on every start and on every new topic, so they go out at debug (our
 * own code counts and reports them when they persist). kafkajs's wording first, then librdkafka's.
 */
export const expectedRetry =
  /does not host this topic-partition|no leader for this topic-partition|leadership election|group is rebalancing|coordinator is (loading|not available)|coordinator load in progress|coordinator not available|not coordinator|leader not available|not leader for partition|rebalance in progress/i;

/**
 * A kafkajs `logCreator` that writes to our logger. kafkajs INFO lines (group joins, connects)
 * go out at debug: they repeat on every rebalance and our own code logs what matters.
 */
export function kafkajsLogCreator(logger: Logger): (level: number) => (entry: KafkajsLogEntry) => void {
  return () => (entry) => {
    const { message, timestamp: _ts, logger: _l, ...fields } = entry.log;
    const obj = { lib: 'kafkajs', ns: entry.namespace, ...fields };
    if (expectedRetry.test(`${String(fields.error ?? '')} ${message}`)) logger.debug(obj, message);
    else if (entry.level === 1) logger.error(obj, message);
    else if (entry.level === 2) logger.warn(obj, message);
    else logger.debug(obj, message);
  };
}
