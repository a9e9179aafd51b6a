/**
 * `<dir>/client-config.json`: how the Pintrace parts reach this devstack, usable as
 * `pintrace <part> --config <dir>/client-config.json`. Its keys are the parts' option keys
 * (`es`, `esUsername`, `esPasswordFile`, `esCaFile`, ...); secrets appear only as file paths.
 * Each server's launcher owns its keys and rewrites only them, so several launchers contribute
 * to one file. (Same contract as the Kafka launcher's writer on branch devstack-kafka; this copy
 * goes when that branch is merged.)
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type ClientConfigValue = string | number | boolean;

export function clientConfigFile(dir: string): string {
  return path.join(dir, 'client-config.json');
}

/** The current contents ({} when there is none yet). */
export async function readClientConfig(dir: string): Promise<Record<string, ClientConfigValue>> {
  const file = clientConfigFile(dir);
  if (!existsSync(file)) return {};
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, ClientConfigValue>;
}

/** One writer at a time within this process; the rename keeps readers from seeing half a file. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Replaces the keys `owns` claims with `values` (keys claimed but absent from `values` are
 * removed) and keeps every other key. Returns the file's path.
 */
export function updateClientConfig(dir: string, owns: (key: string) => boolean, values: Record<string, ClientConfigValue>): Promise<string> {
  const file = clientConfigFile(dir);
  const next = queue.then(async () => {
    await mkdir(dir, { recursive: true });
    const current = await readClientConfig(dir).catch(() => ({}) as Record<string, ClientConfigValue>);
    const merged: Record<string, ClientConfigValue> = {};
    for (const [k, v] of Object.entries(current)) if (!owns(k)) merged[k] = v;
    Object.assign(merged, values);
    const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(sorted, null, 2) + '\n');
    await rename(tmp, file);
    return file;
  });
  queue = next.catch(() => undefined);
  return next;
}
