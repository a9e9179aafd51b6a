import { describe, expect, it } from 'vitest';
import { checkStoreHealth } from '../src/cluster-check.js';
import type { EsHttp, EsRequest } from '../src/http.js';

function answering(answer: (req: EsRequest) => { status: number; body: unknown } | Error): { http: EsHttp; paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    http: {
      async request(req) {
        paths.push(req.path);
        const a = answer(req);
        if (a instanceof Error) throw a;
        return a;
      },
      async close() {},
    },
  };
}

describe('checkStoreHealth', () => {
  it('asks for the health of the span indices only, as zipkin-server does', async () => {
    const { http, paths } = answering(() => ({ status: 200, body: { status: 'yellow' } }));
    expect(await checkStoreHealth(http, 'zipkin')).toEqual({ ok: true, status: 'yellow' });
    expect(paths).toEqual(['/_cluster/health/zipkin*span-*']);
  });

  it('is not ok when the indices are red, the answer is not 200, or the store cannot be reached', async () => {
    expect(await checkStoreHealth(answering(() => ({ status: 200, body: { status: 'red' } })).http, 'zipkin')).toEqual({ ok: false, status: 'red' });
    expect(await checkStoreHealth(answering(() => ({ status: 403, body: 'forbidden' })).http, 'zipkin')).toEqual({ ok: false, status: 'HTTP 403' });
    expect(await checkStoreHealth(answering(() => new Error('connect ECONNREFUSED')).http, 'zipkin')).toEqual({ ok: false, error: 'connect ECONNREFUSED' });
  });
});
