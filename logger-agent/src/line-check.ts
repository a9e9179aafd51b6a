/**
 * The per-line hot path (check, trace key, grouping, message layout) runs in WebAssembly:
 * logger-agent/wasm/line-check.c says what it does and why. This module owns the instance and
 * its memory layout, and turns the results into Kafka messages.
 */
import { readFileSync } from 'node:fs';
import type { KafkaMessage } from '@pintrace/kafka';

/** Per-line results, as line-check.c numbers them. */
export const LINE_OK = 0;
export const LINE_EMPTY = 1;
export const LINE_OVERSIZED = 2;
export const LINE_NOT_OBJECT = 3;
export const LINE_NO_TRACE_ID = 4;
export const LINE_INVALID_JSON = 5;

/** The part of the WebAssembly API used here (not in this project's TypeScript libs). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};
interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  __heap_base: { value: number };
  build_messages(
    input: number,
    base: number,
    starts: number,
    ends: number,
    count: number,
    maxLine: number,
    check: number,
    status: number,
    next: number,
    table: number,
    hashBits: number,
    groups: number,
    out: number,
    stack: number,
  ): number;
}

const wasm = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL('../wasm/line-check.wasm', import.meta.url)))).exports as unknown as Exports;
const heapBase = (Number(wasm.__heap_base.value) + 15) & ~15;
const align = (n: number) => (n + 15) & ~15;
const NONE = new Int32Array(0);

export interface ChunkResult {
  /** One message per trace key, in order of first appearance; spans keep file order within it. */
  messages: KafkaMessage[];
  /** Lines shipped. */
  spans: number;
  /** LINE_* per line (index = line) when `rejected` > 0, else empty. */
  status: Int32Array;
  /** Lines neither shipped nor empty. */
  rejected: number;
}

/**
 * Memory the messages of one batch are copied into, reused batch after batch: a new buffer per
 * chunk would be fresh pages from the kernel each time (a page fault per 4 KiB written; the
 * agent's profiles: bench/README.md, section agent). The owner resets it once the batch is acknowledged,
 * when nothing refers to its messages any more.
 */
export class MessageArena {
  readonly #memory: Buffer;
  #used = 0;

  constructor(bytes: number) {
    this.#memory = Buffer.allocUnsafe(bytes);
  }

  /** `n` bytes of the arena, or undefined when they do not fit. */
  take(n: number): Buffer | undefined {
    if (this.#used + n > this.#memory.length) return undefined;
    const part = this.#memory.subarray(this.#used, this.#used + n);
    this.#used = align(this.#used + n);
    return part;
  }

  reset(): void {
    this.#used = 0;
  }
}

/**
 * Checks and groups lines `bytes[starts[i], ends[i])` (in file order) and builds their messages.
 * The values are views of a copy (the read buffer may be reused): in `arena` when it has room,
 * else in a new buffer.
 */
export function buildChunk(
  bytes: Uint8Array,
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
  count: number,
  maxLineBytes: number,
  checkJson: boolean,
  arena?: MessageArena,
): ChunkResult {
  if (count === 0) return { messages: [], spans: 0, status: NONE, rejected: 0 };
  const from = starts[0];
  const to = ends[count - 1];
  const length = to - from;
  let hashBits = 4;
  while (1 << hashBits < 2 * count) hashBits++;
  // The layout of this call, every part 16-byte aligned; `input` is padded for 16-byte loads.
  const input = heapBase;
  const startsAt = align(input + length + 16);
  const endsAt = align(startsAt + 4 * count);
  const status = align(endsAt + 4 * count);
  const next = align(status + 4 * (count + 2));
  const table = align(next + 4 * count);
  const groups = align(table + (12 << hashBits));
  const stack = align(groups + 16 * count);
  const out = align(stack + (length >> 3) + 16);
  const end = out + length + 18 * count;
  if (end > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((end - wasm.memory.buffer.byteLength) / 65536));
  const memory = wasm.memory.buffer;
  new Uint8Array(memory, input, length).set(bytes.subarray(from, to));
  new Int32Array(memory, startsAt, count).set(starts.length === count ? starts : Array.from({ length: count }, (_, i) => starts[i]));
  new Int32Array(memory, endsAt, count).set(ends.length === count ? ends : Array.from({ length: count }, (_, i) => ends[i]));
  const traces = wasm.build_messages(
    input,
    from,
    startsAt,
    endsAt,
    count,
    Math.min(maxLineBytes, 0x7fffffff),
    checkJson ? 1 : 0,
    status,
    next,
    table,
    hashBits,
    groups,
    out,
    stack,
  );
  const statusView = new Int32Array(memory, status, count + 2);
  const rejected = statusView[count];
  const spans = statusView[count + 1];
  const layout = new Int32Array(memory, groups, 4 * traces);
  const outBytes = traces === 0 ? 0 : layout[4 * (traces - 1) + 1] + layout[4 * (traces - 1) + 2];
  const copy = arena?.take(outBytes) ?? Buffer.allocUnsafe(outBytes);
  copy.set(new Uint8Array(memory, out, outBytes));
  return { messages: messagesOf(copy, layout, traces), spans, status: rejected === 0 ? NONE : statusView.slice(0, count), rejected };
}

/**
 * The messages laid out in `copy`. Its own small function: V8 optimizes the function around a
 * hot loop as a whole, and the whole of buildChunk took it ~30 ms of a second core.
 */
function messagesOf(copy: Buffer, layout: Int32Array, traces: number): KafkaMessage[] {
  const messages: KafkaMessage[] = new Array(traces);
  for (let g = 0; g < traces; g++) {
    const keyAt = layout[4 * g];
    const valueAt = layout[4 * g + 1];
    messages[g] = { key: copy.toString('latin1', keyAt, keyAt + 16), value: copy.subarray(valueAt, valueAt + layout[4 * g + 2]) };
  }
  return messages;
}
