export type { Span, SpanKind, Endpoint, Annotation } from './span.js';
export { REJECT_REASONS } from './reasons.js';
export type { RejectReason, SpanRejection, SpanResult } from './reasons.js';
export { normalizeTraceId, normalizeSpanId, normalizeParentId, isTraceId } from './ids.js';
export type { IdResult } from './ids.js';
export { parseIp } from './ip.js';
export type { ParsedIp } from './ip.js';
export { checkSpan, normalizeSpan } from './normalize.js';
export { encodeSpan, encodeSpanList, encodeSpanFields, sortedTagKeys, decodeSpan, decodeSpanList } from './json-codec.js';
export type { SpanListResult, QuoteString } from './json-codec.js';
export { encodeSpanLine, decodeSpanLine, joinSpanLines } from './line-codec.js';
export { traceIdOfLine } from './trace-id-of-line.js';
export { traceKafkaKey } from './kafka-key.js';
export { otlpToZipkin, anyValueAsString } from './otlp-to-zipkin.js';
export type { OtlpConversion } from './otlp-to-zipkin.js';
export { otlpToZipkinLines } from './otlp-to-zipkin-lines.js';
export type { OtlpLinesConversion } from './otlp-to-zipkin-lines.js';
export { OTLP_SPAN_KIND, OTLP_STATUS_CODE } from './otlp.js';
export type { OtlpTraces, OtlpResourceSpans, OtlpScopeSpans, OtlpSpan, OtlpEvent, OtlpLink, OtlpKeyValue, OtlpAnyValue } from './otlp.js';
export { quoteJson } from './json-escape.js';
export {
  SPAN_FILE_RECHECK_IDLE_MS,
  SPAN_FILE_ABANDONED_IDLE_MS,
  isSpanFileServiceName,
  spanFileName,
  newSpanFileInstance,
  perProcessSpanFile,
} from './span-file.js';
export type { DependencyLink } from './dependency-link.js';
export { DEAD_LETTER_HEADERS, deadLetterHeaders, readDeadLetterHeaders } from './dead-letter.js';
export type { DeadLetterInfo, DeadLetterOrigin } from './dead-letter.js';
export {
  SAMPLING_THRESHOLD_TAG,
  thresholdOfPercent,
  probabilityOfThreshold,
  thresholdOfOtValue,
  withThreshold,
} from './sampling-threshold.js';
export { samplingEndpointOf } from './sampling-endpoint.js';
