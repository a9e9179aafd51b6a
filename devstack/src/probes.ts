import net from 'node:net';

/** The result of one readiness probe: ready, or a short reason shown in the progress line. */
export type ProbeResult = { ready: true; detail?: string } | { ready: false; detail: string };

export async function httpProbe(url: string, check: (status: number, body: string) => ProbeResult): Promise<ProbeResult> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return check(res.status, await res.text());
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    return { ready: false, detail: cause === 'ECONNREFUSED' ? 'port not open yet' : String(cause) };
  }
}

/**
 * Sends Kafka's ApiVersions request (api key 18, v0) and waits for the answer, so "ready" means the
 * broker serves requests, not merely that its port accepts connections.
 */
export function kafkaProbe(host: string, port: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const clientId = Buffer.from('pintrace-devstack');
    const req = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
    req.writeInt32BE(req.length - 4, 0);
    req.writeInt16BE(18, 4);
    req.writeInt16BE(0, 6);
    req.writeInt32BE(7, 8);
    req.writeInt16BE(clientId.length, 12);
    clientId.copy(req, 14);
    const socket = net.connect({ host, port });
    let got = Buffer.alloc(0);
    const done = (r: ProbeResult) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(2000, () => done({ ready: false, detail: 'no answer to ApiVersions yet' }));
    socket.on('connect', () => socket.write(req));
    socket.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 10) {
        const correlation = got.readInt32BE(4);
        const error = got.readInt16BE(8);
        done(correlation === 7 && error === 0 ? { ready: true } : { ready: false, detail: `ApiVersions error ${error}` });
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      done({ ready: false, detail: err.code === 'ECONNREFUSED' ? 'port not open yet' : String(err.code ?? err) }),
    );
    // A peer that hangs up without answering (a broker still starting, or not Kafka at all): the
    // idle timeout no longer fires on a closed socket, so this is the only way out.
    socket.on('close', () => done({ ready: false, detail: 'connection closed without an answer to ApiVersions' }));
  });
}

/** True when something (ours or not) already listens on the port. */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
