/**
 * Does a port speak TLS? Asked when a plain-HTTP request was cut off without an answer, which is
 * what Elasticsearch and OpenSearch do to plain text on an https port: a TLS handshake that gets
 * as far as the server's certificate says "use https://" far better than "connection reset".
 */
import tls from 'node:tls';

/** Resolves true if a TLS handshake with host:port gets an answer in TLS, false otherwise. */
export function speaksTls(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    // Only the protocol is in question here, so the certificate is not checked; nothing is sent
    // over this connection but the handshake.
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ...(isIp(host) ? {} : { servername: host }) });
    socket.once('secureConnect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      // A TLS alert (e.g. "certificate required") is still a TLS answer.
      done(typeof err.code === 'string' && /^ERR_SSL_(TLSV1|TLSV13|SSLV3)_ALERT/.test(err.code));
    });
    socket.once('close', () => done(false));
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
  });
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
