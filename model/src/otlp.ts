/**
 * OTLP trace data as the intake decodes it, from protobuf or from OTLP/JSON, before it is mapped to
 * Zipkin v2 (otlp-to-zipkin.ts). Field names follow the OTLP/JSON mapping of
 * opentelemetry/proto/trace/v1/trace.proto. Ids are lower-hex strings (empty when absent) and
 * times are unsigned nanoseconds since the epoch as bigint, so both wire forms meet in one shape.
 */

/** AnyValue: exactly one member is set; none set is the empty value. int64 is kept as bigint. */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: bigint;
  doubleValue?: number;
  arrayValue?: { values: OtlpAnyValue[] };
  kvlistValue?: { values: OtlpKeyValue[] };
  bytesValue?: Uint8Array;
}

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

/** Span.SpanKind numbers. */
export const OTLP_SPAN_KIND = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
/** Status.StatusCode numbers. */
export const OTLP_STATUS_CODE = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export interface OtlpEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: OtlpKeyValue[];
  droppedAttributesCount: number;
}

export interface OtlpLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: OtlpKeyValue[];
  droppedAttributesCount: number;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  traceState: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: OtlpKeyValue[];
  events: OtlpEvent[];
  links: OtlpLink[];
  status: { code: number; message: string };
}

export interface OtlpScopeSpans {
  scope: { name: string; version: string };
  spans: OtlpSpan[];
}

export interface OtlpResourceSpans {
  resource: { attributes: OtlpKeyValue[] };
  scopeSpans: OtlpScopeSpans[];
}

/** ExportTraceServiceRequest. */
export interface OtlpTraces {
  resourceSpans: OtlpResourceSpans[];
}
