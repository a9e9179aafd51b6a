import { describe, expect, it } from 'vitest';
import { ElasticsearchDependencyLinkWriter } from '../src/dependency-link-writer.js';
import { fakeHttp } from './fake-es.js';

const version = { distribution: 'elasticsearch' as const, major: 8, minor: 8 };
const day = Date.UTC(2026, 3, 8, 13);

describe('ElasticsearchDependencyLinkWriter', () => {
  it('writes one cumulative document per (day, owner, link) with a deterministic _id, retrying 429 items', async () => {
    const ok = { status: 200, body: { items: [{ index: { status: 201 } }] } };
    const { http, requests } = fakeHttp([
      () => ({ status: 200, body: { items: [{ index: { status: 429, error: { type: 'es_rejected_execution_exception' } } }] } }),
      () => ok,
    ]);
    const writer = new ElasticsearchDependencyLinkWriter({ http, version, initialDelayMs: 1, maxDelayMs: 2 });
    await writer.write([{ dayMillis: day, parent: 'web', child: 'api', callCount: 7, errorCount: 2, owner: 'g/t/0' }]);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.body!.toString()).toBe(
      '{"index":{"_index":"zipkin-dependency-2026-04-08","_id":"web|api|g/t/0"}}\n' +
        '{"id":"web|api","parent":"web","child":"api","callCount":7,"errorCount":2,"owner":"g/t/0"}\n',
    );
  });

  it("reads back one owner's documents of a day, and nothing when the index is missing", async () => {
    const { http } = fakeHttp([
      () => ({
        status: 200,
        body: {
          hits: {
            hits: [
              { _source: { parent: 'a', child: 'b', callCount: 3, errorCount: 1, owner: 'g/t/0' } },
              { _source: { parent: 'a', child: 'b', callCount: 9, errorCount: 0, owner: 'g/t/1' } },
              { _source: { parent: 'x', child: 'y', callCount: 1 } }, // written by zipkin-dependencies: no owner
            ],
          },
        },
      }),
      () => ({ status: 404, body: {} }),
    ]);
    const writer = new ElasticsearchDependencyLinkWriter({ http, version });
    expect(await writer.read(day, 'g/t/0')).toEqual([{ dayMillis: day, parent: 'a', child: 'b', callCount: 3, errorCount: 1, owner: 'g/t/0' }]);
    expect(await writer.read(day, 'g/t/0')).toEqual([]);
  });
});
