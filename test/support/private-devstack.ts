import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { devstackOptions, down, up, type DevstackConfig, type ServerName } from '@pintrace/devstack';
import { resolveConfig } from '@pintrace/runtime';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A second devstack on its own ports and data dir, for fault tests that stop or kill a server:
 * the shared devstack keeps serving every other test. Port blocks: 1 → 1909x/1920x/1941x, 2 → 2909x...
 */
export interface PrivateDevstack {
  config: DevstackConfig;
  kafka: string;
  es: string;
  zipkin: string;
  start(servers?: ServerName[]): Promise<void>;
  stop(servers?: ServerName[]): Promise<void>;
}

export function privateDevstack(name: string, block: number, servers: ServerName[] = ['kafka', 'elasticsearch']): PrivateDevstack {
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
    },
  });
  const quiet = process.stderr;
  return {
    config,
    kafka: `127.0.0.1:${config.kafkaPort}`,
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
