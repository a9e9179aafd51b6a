/**
 * kafkajs's protocol Encoder grows its buffer with `Buffer.alloc` (zero-filled) and copies the
 * old content over: every record of a produce request starts at 512 bytes and grows to hold its
 * value, and the record batch grows by doubling — zero-filling that memory showed in the logger
 * agent's CPU profiles (bench/README.md). Growing with `Buffer.allocUnsafe` is the same behaviour without the fill: the
 * Encoder only ever exposes `buf[0, offset)`, which it wrote itself. Patched on the prototype
 * (kafkajs is pinned at 2.2.4); if the shape is not the expected one nothing is changed.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

interface EncoderLike {
  buf: Buffer;
  offset: number;
}

export const fastEncoderGrowth: boolean = install();

function install(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const file = path.join(path.dirname(require.resolve('kafkajs')), 'src', 'protocol', 'encoder.js');
    const Encoder = require(file) as { prototype: Record<string, unknown>; nextPowerOfTwo(v: number): number };
    if (typeof Encoder.prototype.ensureAvailable !== 'function' || typeof Encoder.nextPowerOfTwo !== 'function') return false;
    const probe = new (Encoder as unknown as new () => EncoderLike)();
    if (!Buffer.isBuffer(probe.buf) || probe.offset !== 0) return false;
    Encoder.prototype.ensureAvailable = function ensureAvailable(this: EncoderLike, length: number): void {
      const needed = this.offset + length;
      if (needed <= this.buf.length) return;
      const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(needed));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    };
    return true;
  } catch {
    return false;
  }
}
