import type { Span } from '../src/span.js';

/** Ported values of zipkin's TestObjects / SpanBytesEncoderTest (facts, not code). */
export const FRONTEND = { serviceName: 'frontend', ipv4: '127.0.0.1' };
export const BACKEND = { serviceName: 'backend', ipv4: '192.168.99.101', port: 9000 };

export const CLIENT_SPAN: Span = {
  traceId: '7180c278b62e8f6a216a2aea45d08fc9',
  parentId: '6b221d5bc9e6496c',
  id: '5b4185666d50f68b',
  kind: 'CLIENT',
  name: 'get',
  timestamp: 1472470996199000,
  duration: 207000,
  localEndpoint: FRONTEND,
  remoteEndpoint: BACKEND,
  annotations: [
    { timestamp: 1472470996238000, value: 'foo' },
    { timestamp: 1472470996403000, value: 'bar' },
  ],
  tags: { 'clnt/finagle.version': '6.45.0', 'http.path': '/api' },
};

export const CLIENT_SPAN_JSON =
  '{"traceId":"7180c278b62e8f6a216a2aea45d08fc9","parentId":"6b221d5bc9e6496c","id":"5b4185666d50f68b","kind":"CLIENT","name":"get","timestamp":1472470996199000,"duration":207000,"localEndpoint":{"serviceName":"frontend","ipv4":"127.0.0.1"},"remoteEndpoint":{"serviceName":"backend","ipv4":"192.168.99.101","port":9000},"annotations":[{"timestamp":1472470996238000,"value":"foo"},{"timestamp":1472470996403000,"value":"bar"}],"tags":{"clnt/finagle.version":"6.45.0","http.path":"/api"}}';

export const UTF8_SPAN: Span = {
  traceId: '0000000000000001',
  id: '0000000000000001',
  name: '"\\\t\b\n\r\f',
  annotations: [{ timestamp: 1, value: '\u2028 and \u2029' }],
  tags: { '"foo': 'Database error: ORA-00942:\u2028 and \u2029 table or view does not exist\n' },
};

export const UTF8_SPAN_JSON =
  '{"traceId":"0000000000000001","id":"0000000000000001","name":"\\"\\\\\\t\\b\\n\\r\\f","annotations":[{"timestamp":1,"value":"\\u2028 and \\u2029"}],"tags":{"\\"foo":"Database error: ORA-00942:\\u2028 and \\u2029 table or view does not exist\\n"}}';

export const NO_ANNOTATIONS_ROOT_SERVER_SPAN: Span = {
  traceId: 'dc955a1d4768875d',
  id: 'dc955a1d4768875d',
  kind: 'SERVER',
  name: 'get',
  timestamp: 1510256710021866,
  duration: 1117,
  localEndpoint: { serviceName: 'isao01', ipv4: '10.23.14.72' },
  tags: { 'http.path': '/rs/A', location: 'T67792', other: 'A' },
};

export const LOCAL_SPAN: Span = {
  traceId: 'dc955a1d4768875d',
  id: 'dc955a1d4768875d',
  name: 'encode',
  timestamp: 1510256710021866,
  duration: 1117,
  localEndpoint: { serviceName: 'isao01', ipv4: '10.23.14.72' },
};

export const ERROR_SPAN: Span = {
  traceId: 'dc955a1d4768875d',
  id: 'dc955a1d4768875d',
  kind: 'CLIENT',
  localEndpoint: { serviceName: 'isao01' },
  tags: { error: '' },
};
