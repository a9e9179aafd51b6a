/**
 * What a TLS port says to a bare handshake. Asked when a request was cut off without an answer,
 * which is what Elasticsearch, OpenSearch and Node do in two cases a user must hear about rather
 * than wait through: plain text sent to an https port ("use https://"), and, under TLS 1.3, a
 * handshake without the client certificate the server requires (the server's "certificate
 * required" alert arrives after the handshake, so the HTTP client only sees the socket close).
 */
import tls from 'node:tls';
import { CLIENT_CERT_ALERTS } from './network-errors.js';

export type TlsProbeResult = 'not-tls' | 'tls' | 'client-cert-required';

export interface TlsProbeOptions {
  /** Client certificate and key to present, as the real client would. */
  cert?: Buffer;
  key?: Buffer;
  timeoutMs?: number;
}

/** Opens a TLS connection to host:port, sends nothing but the handshake, and says what it met. */
export function probeTls(host: string, port: number, options: TlsProbeOptions = {}): Promise<TlsProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let handshaken = false;
    const done = (answer: TlsProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    // Only the protocol and the server's verdict on our identity are in question here, so the
    // server's certificate is not checked (the real client checks it).
    const socket = tls.connect({
      host,
      port,
      rejectUnauthorized: false,
      ...(options.cert !== undefined ? { cert: options.cert, key: options.key } : {}),
      ...(/^[\d.]+$/.test(host) || host.includes(':') ? {} : { servername: host }),
    });
    socket.once('secureConnect', () => {
      handshaken = true;
      socket.resume();
      // A server that refuses our certificate says so within a round trip of the handshake. The
      // timers are not unref'd: a caller may be waiting on nothing but this answer.
      setTimeout(() => done('tls'), 500);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (CLIENT_CERT_ALERTS.has(code)) done('client-cert-required');
      else done(handshaken || /^ERR_SSL_(TLSV1|TLSV13|SSLV3)_ALERT/.test(code) ? 'tls' : 'not-tls');
    });
    socket.once('close', () => done(handshaken ? 'tls' : 'not-tls'));
    const timer = setTimeout(() => done(handshaken ? 'tls' : 'not-tls'), options.timeoutMs ?? 2000);
  });
}
