import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { devstackOptions, down, storeClientUrl, up, type DevstackConfig, type ServerName } from '@pintrace/devstack';
import { resolveConfig } from '@pintrace/runtime';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** How the private devstack's store is built; each maps to the devstack option of the same name. */
export interface PrivateStoreOptions {
  storage?: DevstackConfig['storage'];
  secure?: boolean;
  storeSecurity?: DevstackConfig['storeSecurity'];
  storeNodes?: number;
  /** JVM heap of each server (default 512m); keep it small on CI's 2 cores. */
  heap?: string;
}

/**
 * A second devstack on its own ports and data dir, for fault tests that stop or kill a server:
 * the shared devstack keeps serving every other test. Port blocks: 1 → 1909x/1920x/1941x, 2 → 2909x...
 * With `secure` the store's client port is the TLS front (https), its nodes sit on es+10; with
 * `storeNodes` > 1 node i uses es+i-1 and transport+i-1 (see devstack/README.md).
 */
export interface PrivateDevstack {
  config: DevstackConfig;
  kafka: string;
  /** What clients are given: https://… behind `secure`, else the node URLs joined by commas. */
  es: string;
  zipkin: string;
  start(servers?: ServerName[]): Promise<void>;
  stop(servers?: ServerName[]): Promise<void>;
}

export function privateDevstack(
  name: string,
  block: number,
  servers: ServerName[] = ['kafka', 'elasticsearch'],
  store: PrivateStoreOptions = {},
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
      ...(store.storage !== undefined ? { storage: store.storage } : {}),
      ...(store.secure !== undefined ? { secure: store.secure } : {}),
      ...(store.storeSecurity !== undefined ? { storeSecurity: store.storeSecurity } : {}),
      ...(store.storeNodes !== undefined ? { storeNodes: store.storeNodes } : {}),
      ...(store.heap !== undefined ? { heap: store.heap } : {}),
    },
  });
  const quiet = process.stderr;
  return {
    config,
    kafka: `127.0.0.1:${config.kafkaPort}`,
    es: storeClientUrl(config),
    zipkin: `http://127.0.0.1:${config.zipkinPort}`,
    start: async (which = servers) => {
      await up(config, which, quiet);
    },
    stop: async (which = servers) => {
      await down(config, which, quiet);
    },
  };
}
