import { open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new Error(`state directory ${dir} is in use by the agent with pid ${owner}; give each agent its own --state-dir`);
      }
      await unlink(file).catch(() => undefined); // stale
    }
  }
  throw new Error(`cannot lock state directory ${dir}`);
}
