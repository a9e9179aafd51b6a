/**
 * What bench/agent and bench/collector need to run our parts against a plaintext and a secured
 * devstack in one run (`--security plaintext|sasl_ssl|both`): each stack is named by the
 * `client-config.json` its `devstack up` wrote, which the part under test takes as `--config`
 * unchanged, so the bench measures exactly what a user's `--config` runs. The bench's own clients
 * (topic admin, burst producer) resolve the same file through the parts' own option code.
 * Also: CPU of the servers on the other side (Kafka broker, nginx TLS front), so a run can say
 * where the cost of TLS went, not only how large it was.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { kafkaBrokerPids } from '@pintrace/devstack';
import { commonOptions, kafkaConnectionOptions, kafkaConnectionOf, resolveConfig } from '@pintrace/runtime';
import { processCpu } from './processes.mjs';

export const SECURITY_MODES = ['plaintext', 'sasl_ssl'];

/** `--security both|plaintext|sasl_ssl` → the modes to run, in the order of the first round. */
export function securityModes(arg) {
  if (arg === 'both') return [...SECURITY_MODES];
  if (SECURITY_MODES.includes(arg)) return [arg];
  throw new Error(`--security: expected both, plaintext or sasl_ssl (got ${arg})`);
}

/**
 * One stack, from its client-config.json: the file itself (for `--config`), the Kafka connection
 * the bench's own clients use, the store URL the part is given, and the devstack dir (for the
 * servers' pids). `storeDirect` is the store node itself, bypassing the TLS front (devstack
 * README: the node listens on the front's port + 10), so the bench's progress polling costs the
 * front nothing and is not counted as the part's TLS cost.
 */
export function loadStack(file, mode) {
  const abs = path.resolve(file);
  const raw = JSON.parse(readFileSync(abs, 'utf8'));
  const resolved = resolveConfig({ kafka: commonOptions.kafka, ...kafkaConnectionOptions }, { env: {}, file: abs });
  const kafka = kafkaConnectionOf(resolved);
  const expected = mode === 'sasl_ssl' ? 'SASL_SSL' : 'PLAINTEXT';
  if (kafka.security.protocol !== expected) {
    throw new Error(
      `${abs}: kafkaSecurityProtocol is ${kafka.security.protocol}, but --security ${mode} needs ${expected} (start it with devstack up${mode === 'sasl_ssl' ? ' --secure' : ''})`,
    );
  }
  let storeDirect;
  if (raw.es) {
    const u = new URL(raw.es.split(',')[0]);
    storeDirect = u.protocol === 'https:' ? `http://${u.hostname}:${Number(u.port) + 10}` : `${u.protocol}//${u.host}`;
  }
  return { mode, protocol: expected, configFile: abs, dir: path.dirname(abs), brokers: kafka.brokers, kafka, store: raw.es, storeDirect };
}

/**
 * The stacks of `modes` (securityModes()), from `--plain-config` and `--secure-config`; throws,
 * naming the missing option, when a mode's config is not given.
 */
export function loadStacks(modes, { plain, secure }) {
  const configOf = { plaintext: plain, sasl_ssl: secure };
  for (const mode of modes) {
    if (!configOf[mode])
      throw new Error(
        `--security ${mode} needs --${mode === 'plaintext' ? 'plain' : 'secure'}-config <dir>/client-config.json of a devstack started${mode === 'plaintext' ? '' : ' with --secure'}`,
      );
  }
  return Object.fromEntries(modes.map((mode) => [mode, loadStack(configOf[mode], mode)]));
}

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * The pids whose CPU a stack's servers spend for our part: its Kafka broker(s), and with a TLS
 * front the nginx master and its worker (nginx rewrites its title but keeps `-p <front home>`).
 */
export function serverPids(stack) {
  const front = [];
  const home = path.join(stack.dir, 'elasticsearch', 'tls-front');
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.startsWith('nginx: master') && cmd.includes(home)) front.push(Number(entry), ...childrenOf(Number(entry)));
    } catch {
      // gone while we looked
    }
  }
  return { kafka: kafkaBrokerPids(stack.dir).map((b) => b.pid), front };
}

/** A snapshot of the servers' CPU; `serverCpuDelta` turns two of them into seconds spent between. */
export function serverCpu(pids) {
  const sum = (list) => list.reduce((s, pid) => s + (processCpu(pid) ?? 0), 0);
  return { kafka: sum(pids.kafka), front: pids.front.length ? sum(pids.front) : undefined };
}

export function serverCpuDelta(before, after) {
  const d = (a, b) => (a === undefined || b === undefined ? undefined : Math.round((b - a) * 1000) / 1000);
  return { kafkaCpuSeconds: d(before.kafka, after.kafka), frontCpuSeconds: d(before.front, after.front) };
}

/**
 * A stack as a results file names it: its protocol, brokers and SASL mechanism, the fields of
 * `more`, and its config file relative to the repository `root`.
 */
export function stackSummary(stack, root, more = {}) {
  return {
    protocol: stack.protocol,
    brokers: stack.brokers,
    saslMechanism: stack.kafka.security.sasl?.mechanism,
    ...more,
    config: path.relative(root, stack.configFile),
  };
}
