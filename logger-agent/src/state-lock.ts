import { readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** A process that was SIGKILLed a moment ago can still be tearing down; it gets this long to go. */
const DYING_GRACE_MS = 2000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (killed, not yet reaped) still answers signal 0 but holds nothing any more.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (not Linux): signal 0 is all there is
  }
}

/** Whether `pid` still runs after waiting up to DYING_GRACE_MS for it to end. */
async function stillAlive(pid: number): Promise<boolean> {
  for (const deadline = Date.now() + DYING_GRACE_MS; alive(pid); await delay(100)) {
    if (Date.now() >= deadline) return true;
  }
  return false;
}

/**
 * An exclusive lock on the state directory (`agent.lock` holding the owner's pid), so that two
 * agents never advance the same watermarks. A lock left by a process that no longer runs (a
 * crash, kill -9) is taken over. Returns the release function.
 */
export async function lockStateDir(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, 'agent.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        const owner = await readFile(file, 'utf8').catch(() => '');
        if (Number(owner.trim()) === process.pid) await unlink(file).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && (await stillAlive(owner))) {
        throw new Error(`state directory ${dir} is in use by the agent with pid ${owner}; give each agent its own --state-dir`);
      }
      await unlink(file).catch(() => undefined); // stale
    }
  }
  throw new Error(`cannot lock state directory ${dir}`);
}
