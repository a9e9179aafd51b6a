/**
 * Zipkin v2 span model, as in openzipkin/zipkin-api zipkin2-api.yaml (definitions.Span).
 * Timestamps and durations are epoch microseconds; ids are lower-hex strings.
 */
export type SpanKind = 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';

export interface Endpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

export interface Annotation {
  timestamp: number;
  value: string;
}

export interface Span {
  traceId: string;
  parentId?: string;
  id: string;
  kind?: SpanKind;
  name?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: Endpoint;
  remoteEndpoint?: Endpoint;
  annotations?: Annotation[];
  tags?: Record<string, string>;
  debug?: boolean;
  shared?: boolean;
}
