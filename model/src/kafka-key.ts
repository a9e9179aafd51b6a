/**
 * The Kafka message key of a trace: the contract every producer of the span topic honours (the
 * agent's span-file path, its native line check in wasm/line-check.c, its intake, and the
 * ui-proxy's POST /api/v2/spans), so that all spans of a trace reach one partition and one
 * collector.
 *
 *   key = the low 64 bits of the trace id as 16 lower-case hex digits
 *
 * The low half, not the whole id: Zipkin treats a 128-bit trace id and its low 64 bits as one
 * trace when instrumentation mixes widths (`strictTraceId=false`), so keying on the whole id would
 * split such a trace across partitions. A shorter id is padded on the left, as Zipkin pads it.
 */
export function traceKafkaKey(traceId: string): string {
  return traceId.length >= 16 ? traceId.slice(-16) : traceId.padStart(16, '0');
}
