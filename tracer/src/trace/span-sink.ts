import type { FinishedSpan } from './finished-span.js';

/**
 * Receives finished sampled spans. `accept` is called on the request path when a span ends, so it
 * must be O(1), must not block and must not throw: queue, and do the work later.
 */
export interface SpanSink {
  accept(span: FinishedSpan): void;
  /** Resolves when everything accepted so far has been written. Never rejects. */
  flush(): Promise<void>;
  /** Flushes and releases resources; later spans are dropped. Idempotent. Never rejects. */
  shutdown(): Promise<void>;
}
