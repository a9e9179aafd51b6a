import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

/** The Debian package's binaries (/usr/lib/postgresql/<major>/bin, the newest), unless PINTRACE_PG_BIN says where. */
function postgresBin(): string {
  if (process.env.PINTRACE_PG_BIN) return process.env.PINTRACE_PG_BIN;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => /^\d+$/.test(d))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) throw new Error(`no PostgreSQL under ${root}: apt-get install -y postgresql (scripts/setup.mjs --test does)`);
  return path.join(root, majors[0]!, 'bin');
}

export interface Postgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL server (the Debian package's binaries): initdb into a temp directory,
 * trust authentication on 127.0.0.1, fsync off. PostgreSQL refuses to run as root, so as root the
 * server runs as the `postgres` user the package creates.
 */
export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBin();
  const root = mkdtempSync(path.join(tmpdir(), 'pintrace-pg-'));
  const data = path.join(root, 'data');
  const asUser: { uid?: number; gid?: number } = {};
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    asUser.uid = id('-u');
    asUser.gid = id('-g');
    chownSync(root, asUser.uid, asUser.gid);
  }
  const init = spawnSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync'], { ...asUser, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const server: ChildProcess = spawn(
    path.join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', root, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    { ...asUser, stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => server.on('exit', () => resolve()));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`PostgreSQL did not start: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url,
    stop: async () => {
      server.kill('SIGINT'); // fast shutdown
      await exited;
      rmSync(root, { recursive: true, force: true });
    },
  };
}
