/**
 * Differential test: the ui-proxy against the real zipkin-server 3.6.1 of the shared devstack, on
 * the same Elasticsearch data. The comparisons live in support/ui-differential.ts, shared with
 * ui-differential-opensearch.test.ts, so both stores are held to the same queries.
 * Run alone: npx vitest run --project integration test/ui-differential.test.ts
 */
import { esUrl, zipkinUrl } from './support/servers.js';
import { uiDifferential } from './support/ui-differential.js';

uiDifferential({ store: 'Elasticsearch', es: esUrl, zipkin: zipkinUrl });
