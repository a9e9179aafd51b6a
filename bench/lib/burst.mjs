/**
 * The collector's burst: the trace shape that made zipkin-server lose a third of its spans
 * (devstack-facts §6), written once for bench/collector and the burst integration test so that
 * the bench measures what the test checks. Plain JS, as benches run on plain node; the test
 * imports it too (tsconfig.test.json's allowJs reads the JSDoc types).
 */
import { randomBytes } from 'node:crypto';

const hex = (n) => randomBytes(n).toString('hex');

/** Spans in the burst's `j`-th trace: 6..20, ~12.9 on average. */
export const burstTraceSize = (j) => 6 + ((j * 7) % 15);

/**
 * A trace of `n` spans in one service pair: a server root and `n - 1` client calls under it.
 * @param {number} n
 * @param {number} nowMicros the root's timestamp
 * @returns {import('@pintrace/model').Span[]}
 */
export function burstTrace(n, nowMicros) {
  const traceId = hex(16);
  const root = hex(8);
  const spans = [
    {
      traceId,
      id: root,
      kind: 'SERVER',
      name: 'get /burst',
      timestamp: nowMicros,
      duration: 50_000,
      localEndpoint: { serviceName: 'burst-frontend', ipv4: '10.1.0.1' },
      tags: { 'http.path': '/burst' },
    },
  ];
  for (let i = 1; i < n; i++) {
    spans.push({
      traceId,
      parentId: root,
      id: hex(8),
      kind: 'CLIENT',
      name: `call ${i % 5}`,
      timestamp: nowMicros + i * 100,
      duration: 1_000 + i,
      localEndpoint: { serviceName: 'burst-frontend', ipv4: '10.1.0.1' },
      remoteEndpoint: { serviceName: `burst-backend-${i % 4}`, port: 9000 },
      annotations: [{ timestamp: nowMicros + i * 100 + 10, value: 'ws' }],
      tags: { 'http.path': `/b/${i % 7}`, peer: `p${i}` },
    });
  }
  return spans;
}

/**
 * The burst's `messages` traces in order, the `j`-th starting at `nowMicros + j`.
 * @param {number} messages
 * @param {number} nowMicros
 * @returns {Generator<import('@pintrace/model').Span[]>}
 */
export function* burstTraces(messages, nowMicros) {
  for (let j = 0; j < messages; j++) yield burstTrace(burstTraceSize(j), nowMicros + j);
}
