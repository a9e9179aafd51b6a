/**
 * `devstack up --kafka-brokers 3 --secure`: three real Kafka 4.1.1 KRaft nodes (each broker and
 * controller, static three-voter quorum) on loopback behind SASL_SSL, on a private devstack
 * (block 4: brokers 49092/49094/49096, controllers 49093/49095/49097). New topics get replication
 * factor 3 and min.insync.replicas 2 from the brokers' defaults.
 */
import { readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@pintrace/devstack';
import { privateDevstack } from './support/private-devstack.js';
import { uniqueName } from './support/servers.js';
import { rssMb } from './support/agent-load.js';

const ds = privateDevstack('brokers3', 4, ['kafka'], { kafkaBrokers: 3, secure: true, heap: '320m' });

interface ClientConfig {
  kafka: string;
  kafkaSaslUsername: string;
  kafkaSaslPasswordFile: string;
  kafkaCaFile: string;
}

let kafka: kafkajs.Kafka;
let admin: kafkajs.Admin;

describe('devstack up --kafka-brokers 3 --secure', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    await ds.start();
    const pids = (await status(ds.config, ['kafka']))[0]!.pids;
    process.stderr.write(`three-broker secured cluster ready in ${((Date.now() - t0) / 1000).toFixed(1)}s; RSS MB ${pids.map((p) => rssMb(p)).join(', ')}\n`);
    const cfg = JSON.parse(readFileSync(ds.clientConfig, 'utf8')) as ClientConfig;
    kafka = new kafkajs.Kafka({
      brokers: cfg.kafka.split(','),
      ssl: { ca: [readFileSync(cfg.kafkaCaFile)] },
      sasl: { mechanism: 'scram-sha-512', username: cfg.kafkaSaslUsername, password: readFileSync(cfg.kafkaSaslPasswordFile, 'utf8').trim() },
      logLevel: kafkajs.logLevel.NOTHING,
    });
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.disconnect();
    await ds.stop();
  });

  it('reports the bootstrap list and has all three brokers in the metadata', async () => {
    const ports = [0, 2, 4].map((d) => ds.config.kafkaPort + d);
    expect(ds.kafka).toBe(ports.map((p) => `127.0.0.1:${p}`).join(','));
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.map((b) => [b.nodeId, b.port]).sort()).toEqual([
      [1, ports[0]],
      [2, ports[1]],
      [3, ports[2]],
    ]);
    const [row] = await status(ds.config, ['kafka']);
    expect(row!.ready).toBe(true);
    expect(row!.pids).toHaveLength(3);
    expect(row!.address).toBe(ds.kafka);
  });

  it('auto-creates a topic (as the span topic is) with replication factor 3, all in sync, and min.insync.replicas 2', async () => {
    const topic = uniqueName('rf3');
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    // acks=-1 (all) is what the agent uses; with RF 3 and min ISR 2 it needs two brokers' copies.
    await producer.send({ topic, acks: -1, messages: [{ key: 't', value: 'one' }] });
    await producer.disconnect();
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = meta.topics[0]!.partitions;
    expect(partitions).toHaveLength(ds.config.partitions);
    for (const p of partitions) {
      expect(p.replicas.sort()).toEqual([1, 2, 3]);
      expect(p.isr.sort()).toEqual([1, 2, 3]);
    }
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }],
    });
    expect(configs.resources[0]!.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue).toBe('2');
    // Leaders spread over the brokers, so a broker's loss moves real leadership.
    expect(new Set(partitions.map((p) => p.leader)).size).toBeGreaterThan(1);
  });

  it('stops every broker on down', async () => {
    await ds.stop();
    const [row] = await status(ds.config, ['kafka']);
    expect(row!.pids).toEqual([]);
    expect(row!.ready).toBe(false);
  });
});
