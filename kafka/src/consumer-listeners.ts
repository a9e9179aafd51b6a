import type { Logger } from '@pintrace/runtime';
import type { KafkaClientError } from './errors.js';
import type { TopicPartition } from './types.js';

/**
 * The rebalance and error listeners of a SpanConsumer, the same for every client library: each
 * rebalance listener gets its own copy of the assignment and cannot break the others by throwing;
 * an error with no listener is logged rather than lost.
 */
export class ConsumerListeners {
  readonly #rebalance: Array<(assigned: TopicPartition[]) => void> = [];
  readonly #error: Array<(error: Error) => void> = [];

  constructor(private readonly logger: Logger) {}

  onRebalance(listener: (assigned: TopicPartition[]) => void): void {
    this.#rebalance.push(listener);
  }

  onError(listener: (error: Error) => void): void {
    this.#error.push(listener);
  }

  rebalanced(assigned: readonly TopicPartition[]): void {
    for (const l of this.#rebalance) {
      try {
        l(assigned.map((tp) => ({ ...tp })));
      } catch (e) {
        this.logger.warn({ err: e }, 'rebalance listener threw');
      }
    }
  }

  failed(error: KafkaClientError): void {
    if (this.#error.length === 0) {
      this.logger.error({ err: error, code: error.code }, error.message);
      return;
    }
    for (const l of this.#error) l(error);
  }
}
