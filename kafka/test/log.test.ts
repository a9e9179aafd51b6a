import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Logger } from '@pintrace/runtime';
import { kafkajsLogCreator } from '../src/log.js';

/** kafkajs.logLevel: ERROR 1, WARN 2, INFO 4. */
const ERROR = 1;
const WARN = 2;
const INFO = 4;
const pinoLevel: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error' };

function levelsOf(entries: Array<{ level: number; message: string; error?: string }>): string[] {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const logger = pino({ level: 'trace' }, stream) as unknown as Logger;
  const log = kafkajsLogCreator(logger)(INFO);
  for (const { level, message, error } of entries) log({ namespace: 'Test', level, label: 'X', log: { message, ...(error ? { error } : {}) } });
  return lines.map((l) => pinoLevel[(JSON.parse(l) as { level: number }).level]!);
}

describe('kafkajs log lines', () => {
  it('the retries every start makes go to debug, whatever level kafkajs gives them', () => {
    expect(
      levelsOf([
        { level: ERROR, message: 'Response GroupCoordinator', error: 'The coordinator is loading and hence can\'t process requests' },
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
