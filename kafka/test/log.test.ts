import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Logger } from '@pintrace/runtime';
import { kafkajsLogCreator } from '../src/log.js';
import { rdLogForwarder } from '../src/librdkafka-base.js';

/** kafkajs.logLevel: ERROR 1, WARN 2, INFO 4. */
const ERROR = 1;
const WARN = 2;
const INFO = 4;
const pinoLevel: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error' };

/** A logger that keeps the level of every line, and those levels. */
function capture(): { logger: Logger; levels: () => string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const logger = pino({ level: 'trace' }, stream) as unknown as Logger;
  return { logger, levels: () => lines.map((l) => pinoLevel[(JSON.parse(l) as { level: number }).level]!) };
}

function levelsOf(entries: Array<{ level: number; message: string; error?: string }>): string[] {
  const { logger, levels } = capture();
  const log = kafkajsLogCreator(logger)(INFO);
  for (const { level, message, error } of entries) log({ namespace: 'Test', level, label: 'X', log: { message, ...(error ? { error } : {}) } });
  return levels();
}

describe('kafkajs log lines', () => {
  it('the retries every start makes go to debug, whatever level kafkajs gives them', () => {
    expect(
      levelsOf([
        { level: ERROR, message: 'Response GroupCoordinator', error: "The coordinator is loading and hence can't process requests" },
        { level: WARN, message: 'Response Metadata', error: 'There is no leader for this topic-partition as we are in the middle of a leadership election' },
        { level: ERROR, message: 'Response JoinGroup', error: 'The group is rebalancing, so a rejoin is needed' },
      ]),
    ).toEqual(['debug', 'debug', 'debug']);
  });

  it('other errors and warnings keep their level; info goes to debug', () => {
    expect(
      levelsOf([
        { level: ERROR, message: 'Connection error', error: 'connect ECONNREFUSED 127.0.0.1:9092' },
        { level: WARN, message: 'Request timed out' },
        { level: INFO, message: 'Consumer has joined the group' },
      ]),
    ).toEqual(['error', 'warn', 'debug']);
  });
});

describe('librdkafka log lines', () => {
  it('a coordinator still loading is a retry every start makes: debug; a broker down is a warning', () => {
    const { logger, levels } = capture();
    const forward = rdLogForwarder(() => logger);
    // syslog severities: 4 warning, 3 error
    forward({
      severity: 4,
      fac: 'GETPID',
      message: '[thrd:main]: Failed to acquire idempotence PID from broker 127.0.0.1:9092/1: Broker: Coordinator load in progress: retrying',
    });
    forward({ severity: 3, fac: 'FAIL', message: '127.0.0.1:9092/bootstrap: Connect to ipv4#127.0.0.1:9092 failed: Connection refused' });
    expect(levels()).toEqual(['debug', 'warn']);
  });
});
