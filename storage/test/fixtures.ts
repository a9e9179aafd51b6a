import type { Span } from '@pintrace/model';

/**
 * zipkin BulkIndexWriterTest STABLE_SPAN: TestObjects.CLIENT_SPAN with timestamp 100, no
 * annotations. Its tags are out of order on purpose: the document must list them sorted.
 */
export const STABLE_SPAN: Span = {
  traceId: '7180c278b62e8f6a216a2aea45d08fc9',
  parentId: '0000000000000001',
  id: '0000000000000002',
  kind: 'CLIENT',
  name: 'get',
  timestamp: 100,
  duration: 200000,
  localEndpoint: { serviceName: 'frontend', ipv4: '127.0.0.1' },
  remoteEndpoint: { serviceName: 'backend', ipv4: '192.168.99.101', port: 9000 },
  tags: { 'http.path': '/api', 'clnt/finagle.version': '6.45.0' },
};

/** The `_id` zipkin gives STABLE_SPAN's document (reference §1.6), from zipkin's test, not from our encoder. */
export const STABLE_SPAN_ID = '7180c278b62e8f6a216a2aea45d08fc9-198140c2a26bfa58fed4a572dfe3d63b';
