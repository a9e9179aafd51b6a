/**
 * Kafka key of a span line, found without parsing the whole line.
 *
 * The key is the low 64 bits of the trace id as 16 lower-case hex digits. Zipkin treats a
 * 128-bit trace id and its low 64 bits as the same trace when instrumentation mixes widths
 * (`strictTraceId=false`), so keying on the low half keeps all of a trace in one partition
 * either way.
 *
 * Grammar matched (the first top-level-looking occurrence wins; tag values are JSON strings, so
 * a `"traceId"` inside one is escaped and cannot match):
 *   "traceId" ws ":" ws "\"" 1*32HEXDIG "\""
 *
 * (A stand-in until @pintrace/model exports a shared `traceIdOfLine`.)
 */
const TRACE_ID = /"traceId"\s*:\s*"([0-9a-fA-F]{1,32})"/;

/** The trace id of a span line as written (lower-cased), or undefined when there is none. */
export function traceIdOfLine(line: string): string | undefined {
  const m = TRACE_ID.exec(line);
  return m ? m[1].toLowerCase() : undefined;
}

/** Partition key for a trace id: its low 64 bits, zero-padded to 16 hex digits. */
export function traceKey(traceId: string): string {
  return traceId.length >= 16 ? traceId.slice(-16) : traceId.padStart(16, '0');
}
