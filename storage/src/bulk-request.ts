/**
 * The `POST /_bulk` body zipkin's BulkCallBuilder sends: for each document
 *   {"index":{"_index":"<name>"[,"_type":"<type>"],"_id":"<id>"}}\n<document>\n
 * with "_type" only when the cluster still has mapping types. And the reading of its answer.
 */
import type { IndexType } from './index-names.js';

export interface BulkItem {
  index: string;
  type: IndexType;
  id: string;
  /** The document: JSON text, or its UTF-8 bytes. */
  body: string | Buffer;
}

/**
 * Builds the NDJSON body for `items` as one string encoded once: a Buffer per line and a concat
 * of thousands of them cost more than the text itself. The index name repeats on every line of a
 * bulk, so its quoted form is reused while it stays the same.
 */
export function bulkBody(items: readonly BulkItem[], withType: boolean): Buffer {
  let text = '';
  let lastIndex: string | undefined;
  let lastType: string | undefined;
  let prefix = '';
  for (const item of items) {
    if (item.index !== lastIndex || item.type !== lastType) {
      lastIndex = item.index;
      lastType = item.type;
      prefix = withType
        ? `{"index":{"_index":${JSON.stringify(item.index)},"_type":${JSON.stringify(item.type)},"_id":`
        : `{"index":{"_index":${JSON.stringify(item.index)},"_id":`;
    }
    const body = typeof item.body === 'string' ? item.body : item.body.toString('utf8');
    text += `${prefix}${JSON.stringify(item.id)}}}\n${body}\n`;
  }
  return Buffer.from(text, 'utf8');
}

/** The outcome of one bulk item. */
export interface ItemOutcome {
  status: number;
  /** Error type such as "es_rejected_execution_exception" or "mapper_parsing_exception". */
  errorType?: string;
  errorReason?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * Reads the per-item outcomes of a 2xx bulk answer, in request order. Returns undefined when the
 * answer does not have one entry per item (the caller then treats the whole request as failed).
 */
export function bulkOutcomes(body: unknown, count: number): ItemOutcome[] | undefined {
  if (!isObject(body) || !Array.isArray(body.items) || body.items.length !== count) return undefined;
  const out: ItemOutcome[] = [];
  for (const entry of body.items) {
    if (!isObject(entry)) return undefined;
    const op = Object.values(entry)[0];
    if (!isObject(op) || typeof op.status !== 'number') return undefined;
    const outcome: ItemOutcome = { status: op.status };
    if (isObject(op.error)) {
      if (typeof op.error.type === 'string') outcome.errorType = op.error.type;
      if (typeof op.error.reason === 'string') outcome.errorReason = op.error.reason;
    }
    out.push(outcome);
  }
  return out;
}

/** Item failures worth resubmitting: over capacity or temporarily unavailable. */
export function isRetryableItem(outcome: ItemOutcome): boolean {
  return (
    outcome.status === 429 ||
    outcome.status === 502 ||
    outcome.status === 503 ||
    outcome.status === 504 ||
    outcome.errorType === 'es_rejected_execution_exception'
  );
}
