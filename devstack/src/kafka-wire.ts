/**
 * Just enough of the Kafka wire protocol for the devstack's readiness probe, so "ready" means the
 * brokers serve requests (through TLS and SASL when secured) and have all joined the cluster, with
 * no client library and no JVM tool to start:
 *
 *   frame            = int32 size, bytes[size]
 *   request header   = int16 api_key, int16 api_version, int32 correlation_id, string client_id   (v1)
 *   response header  = int32 correlation_id                                                     (v0)
 *   ApiVersions  v0  (18) = ()                          → int16 error_code, ...
 *   SaslHandshake v1 (17) = string mechanism            → int16 error_code, [string] mechanisms
 *   SaslAuthenticate v1 (36) = bytes auth               → int16 error_code, nullable string message, bytes, int64 lifetime
 *   Metadata v4  (3) = nullable [string] topics, bool allow_auto_topic_creation
 *                    → int32 throttle_ms, [int32 node_id, string host, int32 port, nullable string rack] brokers, ...
 *
 * All of these versions are non-flexible (no tagged fields) and survive Kafka 4's removal of old
 * versions (KIP-896). Strings are int16-length-prefixed UTF-8; arrays int32-count-prefixed.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface WireTls {
  /** PEM of the CA that signed the broker certificate; the certificate must name the host dialled. */
  ca: string | Buffer;
}

export interface WireSaslPlain {
  username: string;
  /** Never put into an error or detail text. */
  password: string;
}

export class WireError extends Error {
  constructor(
    message: string,
    /** Short, secret-free reason for a progress line. */
    readonly detail: string,
  ) {
    super(message);
    this.name = 'WireError';
  }
}

const CLIENT_ID = Buffer.from('pintrace-devstack');

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}
function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
function str(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([int16(b.length), b]);
}

/** Reads a response body field by field. */
class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  int16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  nullableString(): string | null {
    const len = this.int16();
    if (len < 0) return null;
    const v = this.buf.toString('utf8', this.at, this.at + len);
    this.at += len;
    return v;
  }
  string(): string {
    return this.nullableString() ?? '';
  }
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
}

/** One connection to one broker; requests are sent one at a time. */
export class KafkaWire {
  private buffered = Buffer.alloc(0);
  private waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private failure: WireError | undefined;
  private correlation = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.deliver();
    });
    const fail = (e: WireError) => {
      this.failure ??= e;
      this.waiting?.reject(this.failure);
      this.waiting = undefined;
    };
    socket.on('error', (err: NodeJS.ErrnoException) => fail(describe(err)));
    socket.on('close', () => fail(new WireError('connection closed', 'connection closed without an answer')));
    socket.setTimeout(3000, () => {
      fail(new WireError('no answer within 3s', 'no answer yet'));
      socket.destroy();
    });
  }

  /** Connects (and completes the TLS handshake when `tlsOptions` is given). */
  static connect(host: string, port: number, tlsOptions?: WireTls): Promise<KafkaWire> {
    return new Promise((resolve, reject) => {
      const socket = tlsOptions ? tls.connect({ host, port, ca: tlsOptions.ca, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
      const ready = tlsOptions ? 'secureConnect' : 'connect';
      const onError = (err: NodeJS.ErrnoException) => reject(describe(err));
      socket.once('error', onError);
      socket.once('close', () => reject(new WireError('connection closed', tlsOptions ? 'connection closed during the TLS handshake' : 'connection closed')));
      socket.setTimeout(3000, () => {
        socket.destroy();
        reject(new WireError('no answer within 3s', tlsOptions ? 'no TLS handshake yet' : 'no answer yet'));
      });
      socket.once(ready, () => {
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        socket.setTimeout(0);
        resolve(new KafkaWire(socket));
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private deliver(): void {
    if (!this.waiting || this.buffered.length < 4) return;
    const size = this.buffered.readInt32BE(0);
    if (this.buffered.length < 4 + size) return;
    const frame = this.buffered.subarray(4, 4 + size);
    this.buffered = this.buffered.subarray(4 + size);
    const w = this.waiting;
    this.waiting = undefined;
    w.resolve(frame);
  }

  /** Sends one request and returns the response body (after the correlation id). */
  private async request(apiKey: number, version: number, body: Buffer): Promise<Reader> {
    if (this.failure) throw this.failure;
    const id = ++this.correlation;
    const payload = Buffer.concat([int16(apiKey), int16(version), int32(id), int16(CLIENT_ID.length), CLIENT_ID, body]);
    const frame = await new Promise<Buffer>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(Buffer.concat([int32(payload.length), payload]));
      this.deliver();
    });
    const r = new Reader(frame);
    if (r.int32() !== id) throw new WireError('correlation id mismatch', 'not a Kafka answer');
    return r;
  }

  async apiVersions(): Promise<void> {
    const error = (await this.request(18, 0, Buffer.alloc(0))).int16();
    if (error !== 0) throw new WireError(`ApiVersions error ${error}`, `ApiVersions error ${error}`);
  }

  /** SASL PLAIN (KIP-152 framing: SaslHandshake, then SaslAuthenticate). */
  async saslPlain(sasl: WireSaslPlain): Promise<void> {
    const hs = await this.request(17, 1, str('PLAIN'));
    const hsError = hs.int16();
    if (hsError !== 0) throw new WireError(`SaslHandshake error ${hsError}`, `SASL PLAIN not enabled (error ${hsError})`);
    const token = Buffer.concat([Buffer.from([0]), Buffer.from(sasl.username), Buffer.from([0]), Buffer.from(sasl.password)]);
    const auth = await this.request(36, 1, Buffer.concat([int32(token.length), token]));
    const error = auth.int16();
    // The broker's message names the user at most, never the password.
    if (error !== 0)
      throw new WireError(`SASL authentication failed: ${auth.nullableString() ?? `error ${error}`}`, `SASL authentication failed (error ${error})`);
  }

  /** The brokers the cluster metadata lists. */
  async brokers(): Promise<BrokerInfo[]> {
    const r = await this.request(3, 4, Buffer.concat([int32(0), Buffer.from([0])]));
    r.int32(); // throttle
    const n = r.int32();
    const out: BrokerInfo[] = [];
    for (let i = 0; i < n; i++) {
      const nodeId = r.int32();
      const host = r.string();
      const port = r.int32();
      r.nullableString();
      out.push({ nodeId, host, port });
    }
    return out;
  }
}

function describe(err: NodeJS.ErrnoException): WireError {
  if (err.code === 'ECONNREFUSED') return new WireError(err.message, 'port not open yet');
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return new WireError(err.message, 'connection reset');
  // TLS verification errors (wrong CA, wrong name) have codes such as UNABLE_TO_VERIFY_LEAF_SIGNATURE.
  return new WireError(err.message, String(err.code ?? err.message));
}
