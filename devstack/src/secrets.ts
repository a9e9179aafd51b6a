/**
 * Generated secrets of one devstack dir: each is a file `<dir>/secrets/<name>` (mode 0600, one
 * line), made once and reused by every later `up`, so clients configured with the file keep
 * working across restarts. Values are never printed; callers pass file paths around, not values.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export function secretsDir(dir: string): string {
  return path.join(dir, 'secrets');
}

/** The path of a secret's file (it may not exist yet: see {@link ensureSecret}). */
export function secretFile(dir: string, name: string): string {
  return path.join(secretsDir(dir), name);
}

/**
 * The path of secret `name`, created with 24 random bytes (base64url: no quotes, backslashes or
 * separators that would need escaping in JAAS lines, properties files or URLs) if it is missing.
 * Exclusive create, so two processes racing on one dir agree on one value.
 */
export async function ensureSecret(dir: string, name: string): Promise<string> {
  const sdir = secretsDir(dir);
  await mkdir(sdir, { recursive: true, mode: 0o700 });
  await chmod(sdir, 0o700);
  const file = path.join(sdir, name);
  try {
    await writeFile(file, randomBytes(24).toString('base64url') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return file;
}

/** The value of a secret file, without its newline. Only for writing server configs; never log it. */
export async function readSecret(file: string): Promise<string> {
  return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
}
