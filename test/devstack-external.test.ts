import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { devstackOptions, down, reachable, up } from '@pintrace/devstack';
import { resolveConfig } from '@pintrace/runtime';

/**
 * A devstack in another directory (another checkout) on the ports of the one the integration run
 * uses: its servers answer there, but are not this devstack's processes.
 */
describe('devstack with servers it did not start (real Kafka)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'devstack-external-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uses a Kafka that already answers on its port, reports it as external, and does not stop it', async () => {
    const config = resolveConfig(devstackOptions, { env: process.env, flags: { dir } });
    const [kafka] = await up(config, ['kafka'], process.stderr);
    expect(kafka).toMatchObject({ name: 'kafka', ready: true, external: true, pids: [] });
    await down(config, ['kafka'], process.stderr);
    expect((await reachable(config, ['kafka'])).kafka).toBe(true);
  });

  it('refuses a port taken by something that does not answer as that server (and does not hang when it hangs up)', async () => {
    const squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const config = resolveConfig(devstackOptions, { env: process.env, flags: { dir, kafkaPort: port } });
      await expect(up(config, ['kafka'], process.stderr)).rejects.toThrow(`kafka: port ${port} is taken by a process that is not this devstack's`);
    } finally {
      squatter.close();
    }
  });
});
