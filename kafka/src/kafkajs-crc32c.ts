/**
 * kafkajs computes the CRC-32C of every record batch in JavaScript (a byte-at-a-time table loop,
 * a visible share of the logger agent's CPU in its profiles: bench/README.md). When the native `@node-rs/crc32` package loads (optional
 * dependency, prebuilt SIMD binaries), its `crc32c` is put in
 * place of kafkajs's module before kafkajs is loaded: kafkajs binds `require('../crc32C')` once at
 * load time, so the module cache entry is the only hook. Same function, same unsigned result
 * (checked against kafkajs's own on a known vector before it is used); without the binary, or if
 * kafkajs was already loaded, nothing changes.
 *
 * Must be imported before `kafkajs` (ESM evaluates imports in order).
 */
import { createRequire, Module } from 'node:module';
import path from 'node:path';

export const nativeCrc32c: boolean = install();

function install(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const main = require.resolve('kafkajs');
    const target = path.join(path.dirname(main), 'src', 'protocol', 'recordBatch', 'crc32C', 'index.js');
    if (require.cache[target]) return false; // kafkajs already bound its own
    const { crc32c } = require('@node-rs/crc32') as { crc32c(input: Buffer, initial?: number): number };
    const js = require(path.join(path.dirname(target), 'crc32C.js')) as (b: Buffer) => number;
    const probe = Buffer.from('123456789 pintrace \u00ff');
    if (crc32c(probe) !== js(probe) >>> 0) return false;
    const m = new Module(target);
    m.filename = target;
    m.loaded = true;
    m.exports = (buffer: Buffer) => crc32c(buffer) >>> 0;
    require.cache[target] = m;
    return true;
  } catch {
    return false; // no binary for this platform: kafkajs's JS CRC is used
  }
}
