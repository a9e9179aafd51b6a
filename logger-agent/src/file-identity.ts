import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** Bytes at the start of a file that are hashed to tell two files with the same inode apart. */
export const FINGERPRINT_BYTES = 1024;

/**
 * What identifies one span log file across renames: device + inode, plus a fingerprint of its
 * first bytes so that an inode reused by a new file after the old one was deleted is not taken
 * for the old file. Span files are append-only, so the first bytes never change once written;
 * the fingerprint covers `fingerprintLength` bytes (at most FINGERPRINT_BYTES, less while the
 * file is shorter) and grows with the file until it reaches FINGERPRINT_BYTES.
 */
export interface FileIdentity {
  dev: number;
  ino: number;
  /** Hex SHA-256 of the first `fingerprintLength` bytes. */
  fingerprint: string;
  fingerprintLength: number;
}

const EMPTY_FINGERPRINT = createHash('sha256').digest('hex');

/** Hash of the first `length` bytes, or undefined when the file is shorter than that. */
export async function fingerprintOf(fh: FileHandle, length: number): Promise<string | undefined> {
  const buf = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await fh.read(buf, filled, length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  if (filled < length) return undefined;
  return createHash('sha256').update(buf).digest('hex');
}

/** Identity of an open file, fingerprinting as many of the first FINGERPRINT_BYTES as it has. */
export async function identify(fh: FileHandle): Promise<FileIdentity> {
  const st = await fh.stat();
  let length = Math.min(FINGERPRINT_BYTES, st.size);
  let fingerprint = await fingerprintOf(fh, length);
  if (fingerprint === undefined) {
    // Shrank between stat and read (truncated under us): identify by the empty prefix.
    length = 0;
    fingerprint = EMPTY_FINGERPRINT;
  }
  return { dev: st.dev, ino: st.ino, fingerprint, fingerprintLength: length };
}

/**
 * Does the open file still hold the content the identity was taken from? False when the file
 * was truncated below the fingerprinted prefix or its first bytes were rewritten.
 */
export async function sameContent(fh: FileHandle, id: FileIdentity): Promise<boolean> {
  return (await fingerprintOf(fh, id.fingerprintLength)) === id.fingerprint;
}

/** Same device and inode (says nothing about content; see sameContent). */
export function sameInode(a: { dev: number; ino: number }, b: { dev: number; ino: number }): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * Extends a short fingerprint once the file has grown, so that the identity becomes as
 * discriminating as possible. Returns the same object when nothing changed.
 */
export async function widenFingerprint(fh: FileHandle, id: FileIdentity, size: number): Promise<FileIdentity> {
  if (id.fingerprintLength >= FINGERPRINT_BYTES || size <= id.fingerprintLength) return id;
  if (!(await sameContent(fh, id))) return id;
  const length = Math.min(FINGERPRINT_BYTES, size);
  const fingerprint = await fingerprintOf(fh, length);
  return fingerprint === undefined ? id : { ...id, fingerprint, fingerprintLength: length };
}
