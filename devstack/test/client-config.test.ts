import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfigFile, readClientConfig, updateClientConfig } from '../src/client-config.js';

describe('client-config.json', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pintrace-client-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const kafkaKeys = (k: string) => k.startsWith('kafka');
  const storeKeys = (k: string) => k.startsWith('es');

  it('merges what the Kafka and store launchers write at the same time', async () => {
    await Promise.all([
      updateClientConfig(dir, kafkaKeys, { kafka: '127.0.0.1:9092', kafkaSecurityProtocol: 'SASL_SSL', kafkaSaslPasswordFile: '/d/secrets/k' }),
      updateClientConfig(dir, storeKeys, { es: 'https://127.0.0.1:9200', esUsername: 'pintrace', esPasswordFile: '/d/secrets/e' }),
    ]);
    expect(await readClientConfig(dir)).toEqual({
      es: 'https://127.0.0.1:9200',
      esPasswordFile: '/d/secrets/e',
      esUsername: 'pintrace',
      kafka: '127.0.0.1:9092',
      kafkaSaslPasswordFile: '/d/secrets/k',
      kafkaSecurityProtocol: 'SASL_SSL',
    });
  });

  it("drops an owner's keys it no longer writes (a plain Kafka after a secured one) and keeps the others'", async () => {
    await updateClientConfig(dir, kafkaKeys, { kafka: '127.0.0.1:9092' });
    expect(await readClientConfig(dir)).toEqual({
      es: 'https://127.0.0.1:9200',
      esPasswordFile: '/d/secrets/e',
      esUsername: 'pintrace',
      kafka: '127.0.0.1:9092',
    });
    expect((await readFile(clientConfigFile(dir), 'utf8')).endsWith('}\n')).toBe(true);
  });
});
