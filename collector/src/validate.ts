/**
 * Stage `validate`: the data-quality check, per span and never per batch.
 *
 * Each message must be a Zipkin v2 JSON list (zipkin's Kafka collector rule: the first byte is
 * "["). @pintrace/model's decodeSpanList checks and normalises every element as zipkin-server
 * does and keeps the good spans of a list that also holds bad ones. A message that cannot be
 * decoded at all is counted and handed to the dead-letter stage with the batch; its offset still counts as
 * processed, so a poison message never stalls its partition. An empty message is ignored, as
 * zipkin does.
 *
 * Units: `in` counts messages; `out` and span drops count spans; message drops count messages.
 */
import type { OperatorFunction } from 'rxjs';
import { decodeSpanList, type Span, type SpanListResult } from '@pintrace/model';
import type { Logger } from '@pintrace/runtime';
import { DropLog } from './drop-log.js';
import type { CollectorMetrics } from './metrics.js';
import { stage } from './stage.js';
import type { DeadLetter, SourceBatch, SpanBatch } from './types.js';

export interface ValidateOptions {
  metrics: CollectorMetrics;
  log: Logger;
  /** Decodes one message; default @pintrace/model's decodeSpanList. */
  decode?: (message: Uint8Array) => SpanListResult;
}

export function validate(options: ValidateOptions): OperatorFunction<SourceBatch, SpanBatch> {
  const { metrics } = options;
  const decode = options.decode ?? decodeSpanList;
  const drops = new DropLog(options.log, 'validate');
  return stage(metrics, 'validate', 'span', (batch: SourceBatch, drop): SpanBatch => {
    const spans: Span[] = [];
    const deadLetters: DeadLetter[] = [];
    for (const message of batch.messages) {
      const where = { topic: batch.topic, partition: batch.partition, offset: message.offset };
      if (message.value === null || message.value.length === 0) {
        drop('empty_message', 1, 'message');
        continue;
      }
      let result: SpanListResult;
      try {
        result = decode(message.value);
      } catch (err) {
        result = { ok: false, reason: 'undecodable', message: `decoder failed: ${String(err)}` };
      }
      if (!result.ok) {
        drop(result.reason, 1, 'message');
        metrics.messagesUndecodable.inc({ reason: result.reason });
        drops.drop(result.reason, 1, { ...where, bytes: message.value.length, detail: result.message });
        deadLetters.push({ ...where, key: message.key, value: message.value, reason: result.reason });
        continue;
      }
      for (const span of result.spans) spans.push(span);
      for (const rejection of result.rejected) {
        drop(rejection.reason, 1);
        metrics.spansRejected.inc({ reason: rejection.reason });
        drops.drop(rejection.reason, 1, { ...where, index: rejection.index, traceId: rejection.traceId, detail: rejection.message });
      }
    }
    return deadLetters.length > 0 ? { spans, receipts: [batch.receipt], deadLetters } : { spans, receipts: [batch.receipt] };
  });
}
