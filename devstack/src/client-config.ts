/**
 * `<dir>/client-config.json`: how every Pintrace part reaches this devstack, usable as
 * `pintrace <part> --config <dir>/client-config.json`. Its keys are the parts' option keys
 * (`kafka`, `kafkaSecurityProtocol`, ..., `es`, `esUsername`, ...). Secrets appear only as file
 * paths (`kafkaSaslPasswordFile`, `esPasswordFile`), never inline, so the file can be shown and shared.
 *
 * Each server's launcher owns its keys and rewrites only them (a plain Kafka after a secured one
 * removes the SASL keys), so the Kafka and store launchers contribute to one file.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withLock } from './lock.js';

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

/**
 * Replaces the keys `owns` claims with `values` (keys claimed but absent from `values` are
 * removed) and keeps every other key; written atomically under a lock. Returns the file's path.
 */
export async function updateClientConfig(dir: string, owns: (key: string) => boolean, values: Record<string, ClientConfigValue>): Promise<string> {
  const file = clientConfigFile(dir);
  await mkdir(dir, { recursive: true });
  await withLock(`${file}.lock`, async () => {
    const current = await readClientConfig(dir).catch(() => ({}) as Record<string, ClientConfigValue>);
    const next: Record<string, ClientConfigValue> = {};
    for (const [k, v] of Object.entries(current)) if (!owns(k)) next[k] = v;
    Object.assign(next, values);
    const sorted = Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(sorted, null, 2) + '\n');
    await rename(tmp, file);
  });
  return file;
}
