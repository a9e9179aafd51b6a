import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commonOptions, resolveConfig } from '../src/config.js';
import { kafkaConnectionOptions } from '../src/connection.js';

describe('one config file for every part (client-config.json)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pintrace-shared-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (content: object) => {
    const f = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(f, JSON.stringify(content));
    return f;
  };

  it('lets a Kafka-only part skip the store keys', () => {
    const options = { kafka: commonOptions.kafka, ...kafkaConnectionOptions };
    const config = resolveConfig(options, {
      env: {},
      file: file({ kafka: '127.0.0.1:49092', kafkaSecurityProtocol: 'SASL_SSL', es: 'https://127.0.0.1:49200', esUsername: 'u', esPasswordFile: '/x' }),
    });
    expect(config.kafka).toEqual(['127.0.0.1:49092']);
    expect(config.kafkaSecurityProtocol).toBe('SASL_SSL');
  });

  it('refuses a Kafka setting that a part talking to Kafka cannot honour, and typos', () => {
    const options = { kafka: commonOptions.kafka };
    expect(() => resolveConfig(options, { env: {}, file: file({ kafka: '127.0.0.1:9092', kafkaSecurityProtocol: 'SASL_SSL' }) })).toThrow(
      /unknown key "kafkaSecurityProtocol"/,
    );
    expect(() => resolveConfig(options, { env: {}, file: file({ kafka: '127.0.0.1:9092', kafkaSaslPasword: 'x' }) })).toThrow(/unknown key "kafkaSaslPasword"/);
  });
});
