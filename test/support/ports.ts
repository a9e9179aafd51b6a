import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * The first port of the range the kernel hands out by itself (to listen(0) and to outgoing
 * connections): 61000 on these machines, where it spans only 4,536 ports.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1024 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const EPHEMERAL_LOW = ephemeralLow();
/** Ports this process handed out already: never twice. */
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port that was free a moment ago, for a child process to listen on. Not one from the kernel's
 * ephemeral range: a port listen(0) returned could be taken, before the child bound it, by any
 * test's outgoing connection or by the next listen(0) (the agent then failed to start with
 * EADDRINUSE on its OTLP/gRPC port). Picked at random from 10000 up to that range, in the upper
 * half of each thousand, as the private devstacks use x092–x440 (see private-devstack.ts), and not
 * in 33000–33999, where collector-store-startup.test.ts listens on fixed ports.
 */
export async function freePort(): Promise<number> {
  const high = Math.min(EPHEMERAL_LOW, 65_536);
  for (let attempt = 0; attempt < 100; attempt++) {
    const thousand = 10 + Math.floor(Math.random() * Math.max(1, Math.floor(high / 1000) - 10));
    const port = thousand * 1000 + 500 + Math.floor(Math.random() * 500);
    if (port >= high || thousand === 33 || handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`freePort: no free port found between 10000 and ${high}`);
}

/** Reads one Prometheus sample (sum over label sets matching `labels`) from a /metrics endpoint. */
export async function metric(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) {
      sum += Number(m[4]);
      found = true;
    }
  }
  if (!found) throw new Error(`metric ${name}${JSON.stringify(labels)} not exposed on :${port}`);
  return sum;
}

/** True when something still accepts connections on the port. */
export function portInUseCheck(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
