/**
 * Which offsets may be committed: per partition, the end of the longest run of consumed batches,
 * in the order they arrived, whose receipts were all released. A batch still being written
 * blocks every later batch of its partition, so a commit never passes unwritten data.
 */
import { Receipt } from './receipt.js';
import type { CommittedOffset } from './types.js';

interface PartitionState {
  topic: string;
  partition: number;
  /** Receipts not yet folded into `ready`, in arrival order. */
  queue: Receipt[];
  /** Next offset to commit, once known and not yet handed out. */
  ready: bigint | undefined;
  /** Last offset handed out for commit. */
  taken: bigint | undefined;
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class OffsetTracker {
  private readonly partitions = new Map<string, PartitionState>();

  /** Starts tracking a consumed batch covering [firstOffset, nextOffset). */
  open(topic: string, partition: number, firstOffset: bigint, nextOffset: bigint): Receipt {
    const key = keyOf(topic, partition);
    let state = this.partitions.get(key);
    if (!state) {
      state = { topic, partition, queue: [], ready: undefined, taken: undefined };
      this.partitions.set(key, state);
    }
    const owner = state;
    const receipt = new Receipt(topic, partition, firstOffset, nextOffset, () => this.advance(owner));
    state.queue.push(receipt);
    return receipt;
  }

  /** Offsets that became committable since the last call; they count as taken. */
  takeCommittable(): CommittedOffset[] {
    const out: CommittedOffset[] = [];
    for (const state of this.partitions.values()) {
      if (state.ready === undefined) continue;
      out.push({ topic: state.topic, partition: state.partition, offset: state.ready.toString() });
      state.taken = state.ready;
      state.ready = undefined;
    }
    return out;
  }

  /** Gives back offsets whose commit failed, so the next take retries them (unless superseded). */
  commitFailed(offsets: CommittedOffset[]): void {
    for (const o of offsets) {
      const state = this.partitions.get(keyOf(o.topic, o.partition));
      if (state && state.ready === undefined) state.ready = BigInt(o.offset);
    }
  }

  /** Drops the state of partitions this member no longer owns; their late releases are ignored. */
  retainOnly(assigned: Array<{ topic: string; partition: number }>): void {
    const keep = new Set(assigned.map((tp) => keyOf(tp.topic, tp.partition)));
    for (const key of [...this.partitions.keys()]) {
      if (!keep.has(key)) this.partitions.delete(key);
    }
  }

  /** Batches consumed but not yet released. */
  inFlight(): number {
    let n = 0;
    for (const state of this.partitions.values()) {
      for (const receipt of state.queue) if (!receipt.released) n += 1;
    }
    return n;
  }

  /** True when nothing is in flight and nothing waits to be committed. */
  isIdle(): boolean {
    for (const state of this.partitions.values()) {
      if (state.queue.length > 0 || state.ready !== undefined) return false;
    }
    return true;
  }

  private advance(state: PartitionState): void {
    if (this.partitions.get(keyOf(state.topic, state.partition)) !== state) return;
    while (state.queue.length > 0 && state.queue[0].released) {
      const head = state.queue.shift()!;
      const next = head.nextOffset;
      // Never move a partition's commit backwards (a batch re-delivered after a seek).
      if ((state.taken === undefined || next > state.taken) && (state.ready === undefined || next > state.ready)) {
        state.ready = next;
      }
    }
  }
}
