import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { formatDeciderValues, isDeciderValue, normalizeDeciderName, parseDeciderValues, DeciderFormatError, type DeciderValues } from './decider-values.js';

/** Where the decider file lives unless configured (`--decider-file`, `PINTRACE_DECIDER_FILE`). */
export const DEFAULT_DECIDER_FILE = './var/config/decider.json';

/** The decider file path from an explicit value, else `PINTRACE_DECIDER_FILE`, else the default. */
export function deciderFilePath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit || env.PINTRACE_DECIDER_FILE || DEFAULT_DECIDER_FILE;
}

/** Reads a decider file; a missing file is an empty map. Throws DeciderFormatError on bad content. */
export async function readDeciderFile(path: string): Promise<DeciderValues> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  return parseDeciderValues(text);
}

/**
 * Replaces the decider file atomically: the document is written to a temporary file in the same
 * directory, fsync'ed, and renamed over the target (then the directory is fsync'ed, where the
 * platform allows). A reader, or a watcher, sees the old or the new file, never a partial one.
 * Creates the directory if missing.
 */
export async function writeDeciderFile(path: string, values: DeciderValues | Record<string, number>): Promise<void> {
  const text = formatDeciderValues(values);
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const file = await open(temp, 'wx', 0o644);
  try {
    await file.writeFile(text, 'utf8');
    await file.sync();
  } catch (err) {
    await file.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await file.close();
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
}

/**
 * Read-modify-write of one value (KingPin `set_experiment_value`): `value` undefined removes the
 * name. Refuses to overwrite a corrupt file (fix or replace it first). Returns the new map.
 */
export async function setDeciderValue(path: string, name: string, value: number | undefined): Promise<DeciderValues> {
  const key = normalizeDeciderName(name);
  if (value !== undefined && !isDeciderValue(value)) {
    throw new DeciderFormatError(`decider ${key}: value must be a number of percent from 0 to 100 (fractions allowed, e.g. 0.3), got ${String(value)}`);
  }
  const next = new Map(await readDeciderFile(path));
  if (value === undefined) next.delete(key);
  else next.set(key, value);
  await writeDeciderFile(path, next);
  return next;
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // not supported everywhere (e.g. some filesystems); the rename is still atomic
  }
}
