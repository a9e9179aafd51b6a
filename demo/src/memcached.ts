import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface Memcached {
  readonly host: string;
  readonly port: number;
  /** `host:port`, as memcache clients take it. */
  readonly server: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts a real memcached (Debian package) on loopback, on `port` or a free one; stop() kills it.
 * The demo caches in it, and the tests use it as the real peer of the memcache instrumentation.
 */
export async function startMemcached(options: { port?: number } = {}): Promise<Memcached> {
  const port = options.port || (await freePort());
  const args = ['-p', String(port), '-U', '0', '-l', '127.0.0.1', '-m', '16'];
  if (process.getuid?.() === 0) args.push('-u', 'root');
  const child: ChildProcess = spawn('memcached', args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`memcached did not start (apt-get install memcached): ${err.message}`))),
  );
  const deadline = Date.now() + 5000;
  for (;;) {
    if (await Promise.race([accepts(port), failed])) break;
    if (Date.now() > deadline) throw new Error(`memcached did not listen on ${port} within 5 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    host: '127.0.0.1',
    port,
    server: `127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
