import { down, devstackOptions, reachable, up } from '@pintrace/devstack';
import { resolveConfig } from '@pintrace/runtime';

/**
 * Starts the devstack once for the whole integration run (idempotent: a running one is reused).
 * On a developer's machine it stays up afterwards, for the next run and for other users of it;
 * in CI (CI=true) one started here is stopped at the end, so CI leaves no process behind.
 */
export default async function setup(): Promise<() => Promise<void>> {
  // Tests that run the CLI as child processes use the build: `npm test` builds before vitest starts.
  const config = resolveConfig(devstackOptions, { env: process.env });
  // Servers that already answer on the configured ports are used as they are, whoever started them.
  const alreadyUp = Object.values(await reachable(config)).every(Boolean);
  if (!alreadyUp) await up(config);
  return async () => {
    if (!alreadyUp && process.env.CI === 'true') await down(config);
  };
}
