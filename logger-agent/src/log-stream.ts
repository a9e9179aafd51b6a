import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * A log stream is one span log base name in the spans directory: the live file `<base>` (e.g.
 * `checkout.jsonl`) plus its rotated siblings `<base>.<suffix>` (e.g. `checkout.jsonl.1718000000000`),
 * as Singer's LogStream with prefix matching. Files whose name starts with `.` (our state) and
 * compressed rotations (which hold no new data for us) are ignored.
 */
const STREAM_FILE = /^([^.].*?\.jsonl)(?:\.(.+))?$/;
const COMPRESSED = /\.(gz|bz2|xz|zst|lz4|zip|tmp)$/;

/** The stream a file name belongs to, or undefined when it is not a span log. */
export function streamOf(fileName: string): string | undefined {
  const m = STREAM_FILE.exec(fileName);
  if (!m) return undefined;
  if (m[2] !== undefined && COMPRESSED.test(fileName)) return undefined;
  return m[1];
}

export interface StreamFile {
  path: string;
  name: string;
  dev: number;
  ino: number;
  size: number;
  mtimeNs: bigint;
  /** What follows `<base>.` in a rotated file's name ('' for the live file). */
  suffix: string;
  /** True for `<base>` itself, the file the writer appends to. */
  live: boolean;
}

/** Numeric suffixes compare as numbers (rotation timestamps), others as strings. */
function compareSuffix(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : Number.NaN;
  const nb = /^\d+$/.test(b) ? Number(b) : Number.NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Oldest first: rotated files are sealed once renamed, so modification time orders them
 * (Singer's assumption); ties are broken by suffix (ms-timestamp suffixes ascend with age), and
 * the live file is always last.
 */
export function compareStreamFiles(a: StreamFile, b: StreamFile): number {
  if (a.live !== b.live) return a.live ? 1 : -1;
  if (a.mtimeNs !== b.mtimeNs) return a.mtimeNs < b.mtimeNs ? -1 : 1;
  return compareSuffix(a.suffix, b.suffix);
}

/** Stream names present in the directory (empty when it does not exist yet). */
export async function listStreams(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out = new Set<string>();
  for (const e of entries) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    const s = streamOf(e.name);
    if (s !== undefined) out.add(s);
  }
  return [...out].sort();
}

/** How often a listing is taken again when a rename happened while it was taken. */
const LISTING_ATTEMPTS = 5;

/**
 * The files of one stream, oldest first. Files that vanish while listing are left out.
 *
 * A listing is a readdir and then a stat per name, so a rotation in between shows the live name
 * already holding the new file while the renamed one is missing: the file being read looks
 * deleted, or a rotated file is skipped. The names are read again after the stats; when they
 * differ, the listing is taken again (a rename always adds a name), so what is returned is a
 * state the directory really had.
 */
export async function listStreamFiles(dir: string, stream: string): Promise<StreamFile[]> {
  let names = await streamNames(dir, stream);
  for (let attempt = 1; ; attempt++) {
    const files = await statFiles(dir, stream, names);
    const after = await streamNames(dir, stream);
    if (attempt >= LISTING_ATTEMPTS || sameNames(names, after)) return files.sort(compareStreamFiles);
    names = after;
  }
}

async function streamNames(dir: string, stream: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => streamOf(name) === stream);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function sameNames(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((n) => set.has(n));
}

async function statFiles(dir: string, stream: string, names: string[]): Promise<StreamFile[]> {
  const files: StreamFile[] = [];
  for (const name of names) {
    const p = path.join(dir, name);
    try {
      const st = await stat(p, { bigint: true });
      if (!st.isFile()) continue;
      files.push({
        path: p,
        name,
        dev: Number(st.dev),
        ino: Number(st.ino),
        size: Number(st.size),
        mtimeNs: st.mtimeNs,
        suffix: name === stream ? '' : name.slice(stream.length + 1),
        live: name === stream,
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return files;
}
