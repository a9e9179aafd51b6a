/**
 * The store dialect against the zipkin-server oracle on the shared devstack's store
 * (PINTRACE_ES_URL; Elasticsearch 8.8.2, or OpenSearch under `devstack up --storage opensearch`):
 * same templates, same `_id`/`_source`/day index for the same spans (test/support/zipkin-oracle.ts).
 * The server writes under PINTRACE_ZIPKIN_INDEX (default "zipkin").
 * Run alone: npx vitest run --project integration test/storage-zipkin-oracle.test.ts
 */
import { afterAll, describe } from 'vitest';
import { createEsHttp } from '@pintrace/storage';
import { esUrl, zipkinUrl } from './support/servers.js';
import { zipkinOracleTests } from './support/zipkin-oracle.js';

const http = createEsHttp({ url: esUrl });
afterAll(() => http.close());

describe(`our writer and zipkin-server 3.6.1 on the same store (${esUrl})`, () => {
  zipkinOracleTests(() => ({ http, zipkinUrl, zipkinIndex: process.env.PINTRACE_ZIPKIN_INDEX ?? 'zipkin' }));
});
