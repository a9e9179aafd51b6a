import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveArtifacts } from '../artifacts.js';
import { markerArg } from '../process.js';
import { kafkaProbe } from '../probes.js';
import type { ServerSpec } from './server.js';

const run = promisify(execFile);

function serverProperties(logDirs: string, port: number, controllerPort: number, partitions: number): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${logDirs}`,
    `num.partitions=${partitions}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    // Tests fill the log fast; keep a day and at most 1 GiB per partition on a laptop.
    'log.retention.hours=24',
    'log.retention.bytes=1073741824',
    '',
  ].join('\n');
}

function log4j2(logFile: string): string {
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = file',
    `appender.file.fileName = ${logFile}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = info',
    'rootLogger.appenderRef.file.ref = file',
    'logger.kafka.name = kafka',
    'logger.kafka.level = info',
    'logger.state.name = state.change.logger',
    'logger.state.level = warn',
    '',
  ].join('\n');
}

/** Kafka 4.1.1 as one KRaft node (broker and controller in one JVM). */
export const kafkaServer: ServerSpec = {
  name: 'kafka',
  port: (c) => c.kafkaPort,
  address: (c) => `127.0.0.1:${c.kafkaPort}`,
  after: [],
  startTimeoutMs: 120_000,
  async prepare({ config, home, step }) {
    step('resolving jars (Maven)');
    const lib = path.join(home, 'lib');
    await resolveArtifacts(lib, 'kafka');
    const data = path.join(home, 'data');
    const conf = path.join(home, 'config');
    await mkdir(conf, { recursive: true });
    const props = path.join(conf, 'server.properties');
    await writeFile(props, serverProperties(data, config.kafkaPort, config.kafkaControllerPort, config.partitions));
    const log4jFile = path.join(conf, 'log4j2.properties');
    await writeFile(log4jFile, log4j2(path.join(home, 'server.log')));
    const cp = `${lib}/*`;
    if (!existsSync(path.join(data, 'meta.properties'))) {
      step('formatting storage (once per data dir)');
      const { stdout } = await run('java', ['-cp', cp, 'kafka.tools.StorageTool', 'random-uuid']);
      await run('java', ['-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', stdout.trim(), '-c', props, '--standalone']);
    }
    return {
      command: 'java',
      args: [
        markerArg(config.dir, 'kafka'),
        `-Xmx${config.heap}`,
        `-Xms${config.heap}`,
        `-Dlog4j2.configurationFile=${log4jFile}`,
        '-cp',
        cp,
        'kafka.Kafka',
        props,
      ],
      cwd: home,
    };
  },
  probe: (c) => kafkaProbe('127.0.0.1', c.kafkaPort),
};
