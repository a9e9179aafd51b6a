/**
 * A reference-counted hold on the offsets of one consumed batch.
 *
 * It starts with one hold. A stage that splits a batch retains once per extra piece; whoever
 * finishes with a piece (the sink after a durable write, a stage that drops it on purpose)
 * releases once. The last release marks the offsets done and resolves `done`.
 */
export class Receipt {
  private holds = 1;
  private settle!: () => void;
  private settleHeld!: () => void;
  /** Resolves when the last hold was released. */
  readonly done: Promise<void>;
  /**
   * Resolves when a stage took the batch's data into its own bounded state (grouping) or when
   * the receipt is done: the source may fetch more then, while the offsets stay uncommitted.
   */
  readonly held: Promise<void>;

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** First offset of the batch. */
    readonly firstOffset: bigint,
    /** Offset after the last message of the batch: what to commit once it is done. */
    readonly nextOffset: bigint,
    private readonly onDone: (receipt: Receipt) => void = () => {},
  ) {
    this.done = new Promise<void>((resolve) => {
      this.settle = resolve;
    });
    this.held = new Promise<void>((resolve) => {
      this.settleHeld = resolve;
    });
  }

  /** Says a stage holds the data now (see `held`); idempotent. */
  markHeld(): void {
    this.settleHeld();
  }

  /** True once every hold was released. */
  get released(): boolean {
    return this.holds === 0;
  }

  /** Adds `count` holds (one per extra piece the batch was split into). */
  retain(count = 1): void {
    if (this.holds === 0) throw new Error(`receipt ${this.describe()} retained after its release`);
    this.holds += count;
  }

  /** Drops one hold; the last one marks the offsets done. */
  release(): void {
    if (this.holds === 0) throw new Error(`receipt ${this.describe()} released more often than held`);
    this.holds -= 1;
    if (this.holds === 0) {
      this.onDone(this);
      this.settle();
      this.settleHeld();
    }
  }

  describe(): string {
    return `${this.topic}[${this.partition}]@${this.firstOffset}..${this.nextOffset - 1n}`;
  }
}
