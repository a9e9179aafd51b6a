/**
 * Kafka key for a (normalised) trace id: its low 64 bits as 16 lower-case hex digits.
 *
 * Zipkin treats a 128-bit trace id and its low 64 bits as the same trace when instrumentation
 * mixes widths (`strictTraceId=false`), so keying on the low half keeps all of a trace in one
 * partition either way. The trace id itself comes from @pintrace/model's traceIdOfLine.
 */
export function traceKey(traceId: string): string {
  return traceId.length >= 16 ? traceId.slice(-16) : traceId.padStart(16, '0');
}
