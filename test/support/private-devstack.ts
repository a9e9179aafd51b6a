import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientConfigFile, devstackOptions, down, kafkaBootstrap, up, type DevstackConfig, type ServerName } from '@pintrace/devstack';
import { resolveConfig } from '@pintrace/runtime';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A second devstack on its own ports and data dir, for fault tests that stop or kill a server:
 * the shared devstack keeps serving every other test. Port blocks: 1 → 1909x/1920x/1941x, 2 → 2909x...
 */
export interface PrivateDevstack {
  config: DevstackConfig;
  /** Bootstrap list: every broker (broker i on kafkaPort + 2(i-1)). */
  kafka: string;
  /** <dir>/client-config.json: the client settings (security included) a part takes as --config. */
  clientConfig: string;
  es: string;
  zipkin: string;
  start(servers?: ServerName[]): Promise<void>;
  stop(servers?: ServerName[]): Promise<void>;
}

/**
 * Devstack options beyond the ports, e.g. `{ secure: true }` (SASL_SSL Kafka) or `{ kafkaBrokers: 3 }`
 * (a three-broker cluster on kafkaPort, +2, +4); keys are the devstack's option keys.
 */
export type PrivateDevstackOptions = Partial<Record<keyof typeof devstackOptions, unknown>>;

export function privateDevstack(
  name: string,
  block: number,
  servers: ServerName[] = ['kafka', 'elasticsearch'],
  options: PrivateDevstackOptions = {},
): PrivateDevstack {
  const base = 10_000 * block;
  const config = resolveConfig(devstackOptions, {
    env: {},
    flags: {
      dir: path.join(repoRoot, 'var', `devstack-${name}`),
      kafkaPort: base + 9092,
      kafkaControllerPort: base + 9093,
      esPort: base + 9200,
      esTransportPort: base + 9300,
      zipkinPort: base + 9411,
      ...options,
    },
  });
  const quiet = process.stderr;
  return {
    config,
    kafka: kafkaBootstrap(config),
    clientConfig: clientConfigFile(config.dir),
    es: `http://127.0.0.1:${config.esPort}`,
    zipkin: `http://127.0.0.1:${config.zipkinPort}`,
    start: async (which = servers) => {
      await up(config, which, quiet);
    },
    stop: async (which = servers) => {
      await down(config, which, quiet);
    },
  };
}
