/**
 * OpenSearch 3.x as a store: a private `devstack up --storage opensearch3` (OpenSearch 3.4.0 from
 * Maven Central, on the newest Java 21+ JDK under /usr/lib/jvm or PINTRACE_DEVSTACK_JAVA21_HOME;
 * ports 33720-33750) with a zipkin-server 3.6.1 pointed at it, and the zipkin-server oracle: our
 * templates and documents equal the server's. Stopped afterwards.
 * Run alone: npx vitest run --project integration test/storage-opensearch3.test.ts
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devstackOptions, down, storeClientUrl, up } from '@pintrace/devstack';
import { resolveConfig } from '@pintrace/runtime';
import { createEsHttp, type EsHttp } from '@pintrace/storage';
import { zipkinOracleTests } from './support/zipkin-oracle.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const config = resolveConfig(devstackOptions, {
  env: process.env.PINTRACE_DEVSTACK_JAVA21_HOME ? { PINTRACE_DEVSTACK_JAVA21_HOME: process.env.PINTRACE_DEVSTACK_JAVA21_HOME } : {},
  flags: {
    dir: path.join(repoRoot, 'var', 'devstack-store-os3'),
    storage: 'opensearch3',
    kafkaPort: 33_792,
    kafkaControllerPort: 33_793,
    esPort: 33_720,
    esTransportPort: 33_750,
    zipkinPort: 33_741,
  },
});
let http: EsHttp;

beforeAll(async () => {
  await up(config, ['elasticsearch', 'zipkin'], process.stderr);
  http = createEsHttp({ url: storeClientUrl(config) });
}, 400_000);

afterAll(async () => {
  await http?.close();
  await down(config, ['zipkin', 'elasticsearch'], process.stderr);
}, 120_000);

describe('OpenSearch 3.x: zipkin-server oracle', () => {
  const oracle = zipkinOracleTests(() => ({ http, zipkinUrl: `http://127.0.0.1:${config.zipkinPort}`, zipkinIndex: 'zipkin' }));
  it('is OpenSearch 3.x (no _type in bulk, - delimiter, legacy _template by default)', () => {
    expect(oracle.version()).toMatchObject({ distribution: 'opensearch', major: 3 });
  });
});
