import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Sends a JSON body with a status. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Reads a whole response or request body as text. */
export function readBody(message: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    message.setEncoding('utf8');
    message.on('data', (chunk: string) => (body += chunk));
    message.on('end', () => resolve(body));
    message.on('error', reject);
  });
}

/** Listens on host:port (0 = any free port) and returns the base URL. */
export function listen(server: Server, host: string, port: number, scheme = 'http'): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`${scheme}://${shownHost}:${address.port}`);
    });
  });
}

/** Stops accepting, drops idle keep-alive connections, and resolves when the server closed. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    (server as Server & { closeIdleConnections?: () => void }).closeIdleConnections?.();
  });
}
