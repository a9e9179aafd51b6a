/**
 * What every intake protocol does once a body is decoded: map to Zipkin v2, check each span fits a
 * span line the agent will ship, append to the spool, and count. Throws IntakeRejection (the client
 * sent something unusable: 400 / INVALID_ARGUMENT) or SpoolFullError (429 / RESOURCE_EXHAUSTED).
 */
import { encodeSpan, normalizeSpan, otlpToZipkinLines, type OtlpTraces, type Span } from '@pintrace/model';
import type { Logger } from '@pintrace/runtime';
import { IntakeRejection } from './decode.js';
import type { IntakeMetrics, IntakeProtocol } from './metrics.js';
import type { Spool } from './spool.js';

/** What each intake listener (OTLP/HTTP and Zipkin, OTLP/gRPC) is built with. */
export interface IntakeListenerOptions {
  host: string;
  port: number;
  core: IntakeCore;
  metrics: IntakeMetrics;
  log: Logger;
  /** --intake-max-body-bytes */
  maxBodyBytes: number;
  /** The delay a client is told to wait when the spool is over its bound. */
  retryAfterSeconds: number;
}

export class IntakeCore {
  constructor(
    private readonly spool: Spool,
    private readonly metrics: IntakeMetrics,
    /** Longest span line the agent ships (its --max-line-bytes). */
    private readonly maxLineBytes: number,
  ) {}

  /** Spans of an OTLP request, acknowledged once spooled; returns how many. */
  async acceptOtlp(traces: OtlpTraces, protocol: IntakeProtocol): Promise<number> {
    // straight to span lines: the mapping and Zipkin's encoding in one pass (model/otlp-to-zipkin-lines.ts)
    const converted = otlpToZipkinLines(traces);
    if (!converted.ok) {
      const reason = converted.reason === 'invalid_id' ? 'invalid_span_id' : converted.reason;
      throw new IntakeRejection(reason, converted.message);
    }
    return this.write(converted.lines, protocol);
  }

  /** Zipkin spans (already decoded, not yet normalised). */
  async acceptZipkin(spans: readonly Span[], protocol: IntakeProtocol): Promise<number> {
    const normalized: Span[] = [];
    for (const span of spans) {
      const result = normalizeSpan(span);
      if (!result.ok) {
        const reason =
          result.reason === 'invalid_trace_id' || result.reason === 'missing_trace_id'
            ? 'invalid_trace_id'
            : result.reason === 'invalid_id' || result.reason === 'missing_id'
              ? 'invalid_span_id'
              : result.reason === 'invalid_parent_id'
                ? 'invalid_parent_id'
                : 'invalid_span';
        throw new IntakeRejection(reason, result.message);
      }
      normalized.push(result.span);
    }
    return this.write(
      normalized.map((s) => encodeSpan(s)),
      protocol,
    );
  }

  /** Span lines, one per span. */
  private async write(lines: readonly string[], protocol: IntakeProtocol): Promise<number> {
    for (const line of lines) {
      // UTF-8 takes at most 3 bytes per UTF-16 unit: only a line that could pass the limit is
      // measured (the spool measures every line again as it encodes them)
      if (line.length * 3 <= this.maxLineBytes) continue;
      const bytes = Buffer.byteLength(line);
      if (bytes > this.maxLineBytes)
        throw new IntakeRejection(
          'span_too_large',
          `a span encodes to ${bytes} bytes, over the agent's ${this.maxLineBytes}-byte line limit (attributes too large?)`,
        );
    }
    await this.spool.append(lines);
    this.metrics.spans.inc({ protocol }, lines.length);
    this.metrics.requests.inc({ protocol, result: 'accepted' });
    this.metrics.backlog.set(this.spool.backlogBytes());
    return lines.length;
  }
}
