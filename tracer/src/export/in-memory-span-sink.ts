import type { Span as ZipkinSpan } from '@pintrace/model';
import type { FinishedSpan } from '../trace/finished-span.js';
import type { SpanSink } from '../trace/span-sink.js';
import { toZipkinSpan } from '../zipkin/to-zipkin.js';

/** Keeps finished spans in memory, for tests and examples. Unbounded: not for production. */
export class InMemorySpanSink implements SpanSink {
  private readonly finished: FinishedSpan[] = [];
  private closed = false;

  accept(span: FinishedSpan): void {
    if (!this.closed) this.finished.push(span);
  }

  /** The spans accepted so far, converted to Zipkin v2, in the order they ended. */
  spans(): ZipkinSpan[] {
    return this.finished.map(toZipkinSpan);
  }

  /** Forgets the spans accepted so far. */
  clear(): void {
    this.finished.length = 0;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
