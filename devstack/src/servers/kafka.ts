import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveArtifacts } from '../artifacts.js';
import { ensureDevCerts, type DevCerts } from '../certs.js';
import { updateClientConfig } from '../client-config.js';
import { KafkaWire, WireError } from '../kafka-wire.js';
import type { DevstackConfig } from '../options.js';
import { findMarkedPids, markerArg } from '../process.js';
import { portInUse, type ProbeResult } from '../probes.js';
import { ensureSecret, readSecret, secretFile } from '../secrets.js';
import type { ServerLaunch, ServerSpec } from './server.js';

const run = promisify(execFile);

/** The SASL user every Pintrace part connects as (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 alike). */
export const KAFKA_CLIENT_USER = 'pintrace';
/** The user brokers and controllers authenticate to each other as (PLAIN: KRaft controllers cannot read SCRAM credentials). */
const BROKER_USER = 'broker';
const CLIENT_PASSWORD = 'kafka-client.password';
const BROKER_PASSWORD = 'kafka-broker.password';
/** The mechanism client-config.json names; the strongest of the three. */
const CLIENT_MECHANISM = 'SCRAM-SHA-512';
/** System property naming a broker's layout and node id, e.g. `secure-brokers-3/2`. */
const NODE_PROP = '-Dpintrace.devstack.kafka=';

interface KafkaNode {
  id: number;
  port: number;
  controllerPort: number;
  /** Holds config/, data/ and the logs of this broker. */
  home: string;
  data: string;
  conf: string;
  /** log4j's file. */
  serverLog: string;
  /** The JVM's stdout/stderr (nearly empty: log4j writes serverLog). */
  consoleLog: string;
}

/**
 * How a devstack's Kafka is laid out. The single plain broker keeps the historic paths
 * (<dir>/kafka/data, config/, server.log). Every other shape has its own data dirs under
 * <dir>/kafka/<profile>/broker-<id>/, because their storage is formatted differently (SCRAM users,
 * a static three-voter quorum) and must never be mixed up with another shape's.
 */
export interface KafkaLayout {
  profile: string;
  secure: boolean;
  nodes: KafkaNode[];
  /** Replication factor of new topics and internal topics; min.insync.replicas is one less (at least 1). */
  replicationFactor: number;
  minInsyncReplicas: number;
}

export function kafkaLayout(config: DevstackConfig): KafkaLayout {
  const n = config.kafkaBrokers;
  const secure = config.secure;
  const profile = n === 1 ? (secure ? 'secure' : 'plain') : `${secure ? 'secure-' : ''}brokers-${n}`;
  const root = path.join(config.dir, 'kafka');
  const nodes: KafkaNode[] = [];
  for (let id = 1; id <= n; id++) {
    const home = profile === 'plain' ? root : path.join(root, profile, `broker-${id}`);
    nodes.push({
      id,
      // Interleaved with the controller ports (9092/9093, 9094/9095, 9096/9097) so a cluster
      // takes one small range and the defaults of every other server stay clear.
      port: config.kafkaPort + 2 * (id - 1),
      controllerPort: config.kafkaControllerPort + 2 * (id - 1),
      home,
      data: path.join(home, 'data'),
      conf: path.join(home, 'config'),
      serverLog: path.join(home, 'server.log'),
      consoleLog: profile === 'plain' ? path.join(home, 'server.log') : path.join(home, 'console.log'),
    });
  }
  const replicationFactor = Math.min(3, n);
  return { profile, secure, nodes, replicationFactor, minInsyncReplicas: Math.max(1, replicationFactor - 1) };
}

/** The bootstrap list clients use: every broker's address. */
export function kafkaBootstrap(config: DevstackConfig): string {
  return kafkaLayout(config)
    .nodes.map((n) => `127.0.0.1:${n.port}`)
    .join(',');
}

function describeProfile(profile: string): string {
  const m = /^(secure-?)?(?:brokers-(\d+))?/.exec(profile === 'plain' ? '' : profile)!;
  const brokers = m[2] ? `${m[2]} brokers` : '1 broker';
  return `${brokers}, ${m[1] ? 'secured (--secure)' : 'plaintext'}`;
}

/**
 * The running brokers of this dir's Kafka, by node id (a broker started before layouts existed is
 * node 1 of `plain`). Fault tests use it to kill a chosen broker.
 */
export function kafkaBrokerPids(dir: string): Array<{ profile: string; nodeId: number; pid: number }> {
  const out: Array<{ profile: string; nodeId: number; pid: number }> = [];
  for (const pid of findMarkedPids(dir, 'kafka')) {
    try {
      const arg = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .find((a) => a.startsWith(NODE_PROP));
      const [profile, id] = arg ? arg.slice(NODE_PROP.length).split('/') : ['plain', '1'];
      out.push({ profile: profile!, nodeId: Number(id), pid });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** The layouts of this dir's running Kafka JVMs (a broker started before layouts existed counts as plain). */
function runningProfiles(dir: string): string[] {
  return [...new Set(kafkaBrokerPids(dir).map((b) => b.profile))];
}

function conflict(config: DevstackConfig): string | undefined {
  const wanted = kafkaLayout(config).profile;
  const other = runningProfiles(config.dir).filter((p) => p !== wanted);
  if (!other.length) return undefined;
  return (
    `Kafka of ${config.dir} runs as ${other.map(describeProfile).join(' and ')}, but ${describeProfile(wanted)} was asked for. ` +
    `Stop it first (pintrace devstack down kafka --dir ${config.dir}), or give the same --secure / --kafka-brokers as when it was started. ` +
    `Each shape keeps its own data, so switching loses nothing.`
  );
}

interface Secured {
  certs: DevCerts;
  keystorePassword: string;
  clientPassword: string;
  brokerPassword: string;
}

/** A JAAS value inside a properties file: the generated passwords are base64url, so no quoting issues. */
function plainJaas(self: string, selfPassword: string, users: Record<string, string>): string {
  const entries = Object.entries(users)
    .map(([u, p]) => ` user_${u}="${p}"`)
    .join('');
  return `org.apache.kafka.common.security.plain.PlainLoginModule required username="${self}" password="${selfPassword}"${entries};`;
}

function serverProperties(layout: KafkaLayout, node: KafkaNode, partitions: number, sec: Secured | undefined): string {
  const single = layout.nodes.length === 1;
  const listener = sec ? 'SASL_SSL' : 'PLAINTEXT';
  const lines = [
    'process.roles=broker,controller',
    `node.id=${node.id}`,
    // One node: a dynamic quorum bootstrapped with --standalone. Several: a static voter set, so
    // every node is formatted alike and no add-controller step is needed.
    single
      ? `controller.quorum.bootstrap.servers=127.0.0.1:${node.controllerPort}`
      : `controller.quorum.voters=${layout.nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',')}`,
    `listeners=${listener}://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    `advertised.listeners=${listener}://127.0.0.1:${node.port}`,
    'controller.listener.names=CONTROLLER',
    `inter.broker.listener.name=${listener}`,
    `listener.security.protocol.map=CONTROLLER:${sec ? 'SASL_SSL' : 'PLAINTEXT'},${listener}:${listener}`,
    `log.dirs=${node.data}`,
    `num.partitions=${partitions}`,
    `default.replication.factor=${layout.replicationFactor}`,
    `min.insync.replicas=${layout.minInsyncReplicas}`,
    `offsets.topic.replication.factor=${layout.replicationFactor}`,
    'offsets.topic.num.partitions=10',
    `transaction.state.log.replication.factor=${layout.replicationFactor}`,
    `transaction.state.log.min.isr=${layout.minInsyncReplicas}`,
    `share.coordinator.state.topic.replication.factor=${layout.replicationFactor}`,
    `share.coordinator.state.topic.min.isr=${layout.minInsyncReplicas}`,
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    // Tests fill the log fast; keep a day and at most 1 GiB per partition on a laptop.
    'log.retention.hours=24',
    'log.retention.bytes=1073741824',
  ];
  if (sec) {
    const users = { [BROKER_USER]: sec.brokerPassword, [KAFKA_CLIENT_USER]: sec.clientPassword };
    lines.push(
      // Kafka logs its config at start with password-type values (JAAS, keystore passwords) as [hidden].
      'ssl.keystore.type=PKCS12',
      `ssl.keystore.location=${sec.certs.serverKeystoreFile}`,
      `ssl.keystore.password=${sec.keystorePassword}`,
      `ssl.key.password=${sec.keystorePassword}`,
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${sec.certs.caFile}`,
      'ssl.endpoint.identification.algorithm=https',
      // Clients may offer a certificate (mutual-TLS client settings work) but need not: SASL is
      // what authenticates here. With "requested", Java's TLS does not refuse a certificate it
      // cannot verify, it only ignores it; a listener that must refuse needs "required".
      'ssl.client.auth=requested',
      'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      'listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      `listener.name.sasl_ssl.plain.sasl.jaas.config=${plainJaas(BROKER_USER, sec.brokerPassword, users)}`,
      // SCRAM credentials live in the cluster metadata (added when the storage is formatted).
      'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'sasl.mechanism.inter.broker.protocol=PLAIN',
      'sasl.mechanism.controller.protocol=PLAIN',
      'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
      `listener.name.controller.plain.sasl.jaas.config=${plainJaas(BROKER_USER, sec.brokerPassword, { [BROKER_USER]: sec.brokerPassword })}`,
    );
  }
  return lines.join('\n') + '\n';
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

const fingerprint = (password: string) => createHash('sha256').update(`pintrace-devstack-scram:${password}`).digest('hex');

/**
 * Formats one node's storage. SCRAM users can only be created here (a KRaft cluster has no other
 * way to bootstrap them without an authenticated client), so the passwords travel as arguments of
 * this short-lived local process; nothing about it is printed, and errors are scrubbed of them.
 */
async function format(cp: string, props: string, clusterId: string, single: boolean, sec: Secured | undefined): Promise<void> {
  const args = ['-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props];
  if (single) args.push('--standalone');
  if (sec) {
    for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) args.push('--add-scram', `${mech}=[name=${KAFKA_CLIENT_USER},password=${sec.clientPassword}]`);
  }
  try {
    await run('java', args, { timeout: 120_000 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; code?: unknown };
    let text = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().slice(-1500);
    if (sec) for (const secret of [sec.clientPassword, sec.brokerPassword, sec.keystorePassword]) text = text.split(secret).join('***');
    throw new Error(`formatting Kafka storage (${props}) failed (exit ${String(e.code)}):\n${text}`);
  }
}

function clusterIdOf(nodes: KafkaNode[]): string | undefined {
  for (const n of nodes) {
    const meta = path.join(n.data, 'meta.properties');
    if (existsSync(meta)) {
      const m = /^cluster\.id=(.+)$/m.exec(readFileSync(meta, 'utf8'));
      if (m) return m[1]!.trim();
    }
  }
  return undefined;
}

async function prepareKafka(config: DevstackConfig, home: string, step: (detail: string) => void): Promise<ServerLaunch[]> {
  const layout = kafkaLayout(config);
  const allPorts = layout.nodes.flatMap((n) => [n.port, n.controllerPort]);
  if (new Set(allPorts).size !== allPorts.length) {
    throw new Error(
      `Kafka ports overlap: --kafka-port ${config.kafkaPort} and --kafka-controller-port ${config.kafkaControllerPort} with ${layout.nodes.length} brokers use kafka-port+2(i-1) and kafka-controller-port+2(i-1); pick ports further apart`,
    );
  }
  // Brokers of this cluster that still run (the others crashed or were killed) are left alone.
  const running = new Set(
    kafkaBrokerPids(config.dir)
      .filter((b) => b.profile === layout.profile)
      .map((b) => b.nodeId),
  );
  const starting = layout.nodes.filter((n) => !running.has(n.id));
  // With no broker running, `up` has checked the first port itself.
  const ports = starting.flatMap((n) => [n.port, n.controllerPort]).filter((p) => running.size || p !== layout.nodes[0]!.port);
  for (const p of ports) {
    if (await portInUse(p))
      throw new Error(`Kafka: port ${p} is taken by another process; stop it, or pick other ports (--kafka-port, --kafka-controller-port).`);
  }
  step('resolving jars (Maven)');
  const lib = path.join(home, 'lib');
  await resolveArtifacts(lib, 'kafka');
  const cp = `${lib}/*`;

  let sec: Secured | undefined;
  if (layout.secure) {
    step('certificates and passwords');
    const certs = await ensureDevCerts(config.dir);
    sec = {
      certs,
      keystorePassword: await readSecret(certs.serverKeystorePasswordFile),
      clientPassword: await readSecret(await ensureSecret(config.dir, CLIENT_PASSWORD)),
      brokerPassword: await readSecret(await ensureSecret(config.dir, BROKER_PASSWORD)),
    };
  }

  const unformatted = layout.nodes.filter((n) => !existsSync(path.join(n.data, 'meta.properties')));
  let clusterId = clusterIdOf(layout.nodes);
  if (unformatted.length && !clusterId) {
    const { stdout } = await run('java', ['-cp', cp, 'kafka.tools.StorageTool', 'random-uuid']);
    clusterId = stdout.trim();
  }
  const launches: ServerLaunch[] = [];
  const formats: Promise<void>[] = [];
  for (const node of layout.nodes) {
    await mkdir(node.conf, { recursive: true });
    const props = path.join(node.conf, 'server.properties');
    // Secured configs hold the JAAS and keystore passwords Kafka needs in its own file: owner only.
    await writeFile(props, serverProperties(layout, node, config.partitions, sec), { mode: sec ? 0o600 : 0o644 });
    if (sec) await chmod(props, 0o600);
    const log4jFile = path.join(node.conf, 'log4j2.properties');
    await writeFile(log4jFile, log4j2(node.serverLog));
    const scramMark = path.join(node.home, 'scram-users.sha256');
    if (unformatted.includes(node)) {
      // The nodes' formats are independent JVM runs: side by side they take one run's time.
      formats.push(
        format(cp, props, clusterId!, layout.nodes.length === 1, sec).then(async () => {
          if (sec) await writeFile(scramMark, fingerprint(sec.clientPassword) + '\n');
        }),
      );
    } else if (sec && existsSync(scramMark) && (await readFile(scramMark, 'utf8')).trim() !== fingerprint(sec.clientPassword)) {
      throw new Error(
        `Kafka's SCRAM users in ${node.data} were made with another password than ${secretFile(config.dir, CLIENT_PASSWORD)} holds now. ` +
          `Restore that file, or remove ${path.dirname(node.home)} to start this cluster afresh (its topics are lost).`,
      );
    }
    const args = [
      markerArg(config.dir, 'kafka'),
      `${NODE_PROP}${layout.profile}/${node.id}`,
      `-Xmx${config.heap}`,
      `-Xms${config.heap}`,
      `-Dlog4j2.configurationFile=${log4jFile}`,
      '-cp',
      cp,
      'kafka.Kafka',
      props,
    ];
    if (starting.includes(node)) launches.push({ command: 'java', args, cwd: node.home, logFile: node.consoleLog, instance: node.id - 1 });
  }
  if (formats.length) {
    step(`formatting storage of ${formats.length === 1 ? 'the broker' : `${formats.length} brokers`} (once per data dir)`);
    await Promise.all(formats);
  }

  await updateClientConfig(config.dir, (k) => k === 'kafka' || k.startsWith('kafka'), {
    kafka: kafkaBootstrap(config),
    // PLAINTEXT is every part's default: a plain devstack's file names only the brokers.
    ...(sec
      ? {
          kafkaSecurityProtocol: 'SASL_SSL',
          kafkaSaslMechanism: CLIENT_MECHANISM,
          kafkaSaslUsername: KAFKA_CLIENT_USER,
          kafkaSaslPasswordFile: secretFile(config.dir, CLIENT_PASSWORD),
          kafkaCaFile: sec.certs.caFile,
        }
      : {}),
  });
  return launches;
}

/**
 * Ready when every broker answers ApiVersions (through TLS and SASL PLAIN when secured) and, with
 * several brokers, the metadata lists all of them (each has registered and been unfenced).
 */
async function probeKafka(config: DevstackConfig): Promise<ProbeResult> {
  const layout = kafkaLayout(config);
  const clash = conflict(config);
  if (clash) return { ready: false, detail: `running with another shape (${runningProfiles(config.dir).map(describeProfile).join('; ')})` };
  let tlsOptions: { ca: Buffer } | undefined;
  let sasl: { username: string; password: string } | undefined;
  if (layout.secure) {
    const caFile = path.join(config.dir, 'certs', 'ca.pem');
    const passwordFile = secretFile(config.dir, CLIENT_PASSWORD);
    if (!existsSync(caFile) || !existsSync(passwordFile)) return { ready: false, detail: 'no certificates or passwords yet (never started with --secure)' };
    tlsOptions = { ca: readFileSync(caFile) };
    sasl = { username: KAFKA_CLIENT_USER, password: await readSecret(passwordFile) };
  }
  for (const node of layout.nodes) {
    const where = layout.nodes.length > 1 ? `broker ${node.id} (127.0.0.1:${node.port}): ` : '';
    let wire: KafkaWire | undefined;
    try {
      wire = await KafkaWire.connect('127.0.0.1', node.port, tlsOptions);
      await wire.apiVersions();
      if (sasl) await wire.saslPlain(sasl);
      if (layout.nodes.length > 1 && node === layout.nodes[0]) {
        const registered = await wire.brokers();
        if (registered.length < layout.nodes.length) {
          return { ready: false, detail: `${registered.length} of ${layout.nodes.length} brokers registered` };
        }
      }
    } catch (err) {
      return { ready: false, detail: where + (err instanceof WireError ? err.detail : String(err)) };
    } finally {
      wire?.close();
    }
  }
  return { ready: true };
}

/** Kafka 4.1.1 in KRaft mode: one node, or several, each broker and controller in one JVM. */
export const kafkaServer: ServerSpec = {
  name: 'kafka',
  port: (c) => c.kafkaPort,
  address: (c) => kafkaBootstrap(c),
  after: [],
  // Three JVMs electing a quorum on two busy cores take longer than one.
  startTimeoutMs: 180_000,
  logFile: (c) => kafkaLayout(c).nodes[0]!.serverLog,
  processes: (c) => c.kafkaBrokers,
  conflict,
  prepare: ({ config, home, step }) => prepareKafka(config, home, step),
  probe: probeKafka,
};
