/**
 * Acceptance (issue 14): the ui-proxy differential test passes against zipkin-server on OpenSearch
 * as it does on Elasticsearch. A private devstack (block 3.9: OpenSearch 2.19 on 48200, its own
 * zipkin-server 3.6.1 on 48411, no Kafka: neither server needs it) runs the same comparisons as
 * ui-differential.test.ts (support/ui-differential.ts). Its own store, not the shared one: the shared
 * devstack is Elasticsearch, and a store of its own also keeps /api/v2/services free of other tests' data.
 * Run alone: npx vitest run --project integration test/ui-differential-opensearch.test.ts
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { privateDevstack } from './support/private-devstack.js';
import { uiDifferential } from './support/ui-differential.js';

const ds = privateDevstack('ui-differential-opensearch', 3.9, ['elasticsearch', 'zipkin'], { storage: 'opensearch', heap: '384m' });

// Top-level hooks run before the suite's own: the servers are up when it writes its data.
beforeAll(() => ds.start(), 300_000);
afterAll(() => ds.stop(), 120_000);

// Were the store anything else, a pass here would prove nothing about OpenSearch.
it('the store both servers read is OpenSearch 2.19', async () => {
  const root = (await (await fetch(ds.es)).json()) as { version: { distribution?: string; number: string } };
  expect(root.version.distribution).toBe('opensearch');
  expect(root.version.number).toMatch(/^2\.19\./);
});

uiDifferential({ store: 'OpenSearch 2.19', es: ds.es, zipkin: ds.zipkin });
