import { EventEmitter } from 'node:events';
import net from 'node:net';
import { context, SpanKind, type Context, type Span } from '@opentelemetry/api';
import { newSpanId } from '../ids.js';
import { encodeWith, frame, framingOf, isUnderrun, loadThrift, TMessageType, TType } from './thrift-module.js';
import type { ThriftFraming, ThriftModule, ThriftProtocol, ThriftProtocolClass, ThriftTransport, ThriftTransportClass } from './thrift-module.js';
import { setErrorStatus, setPeer, ttwitterTraceOf, type ThriftTracing } from './thrift-tracing.js';
import { CAN_TRACE_METHOD, writeEmptyStruct, writeRequestHeader, type TTwitterTrace } from './tracing-headers.js';

export interface TTwitterClientOptions {
  /** Wire framing. Default `framed` (Finagle's default); `buffered` is the npm library's default. */
  transport?: ThriftFraming | ThriftTransportClass;
  /** Protocol class. Default the library's TBinaryProtocol. */
  protocol?: ThriftProtocolClass;
  /** Try the TTwitter upgrade on each new connection. Default true; false speaks plain Thrift. */
  upgrade?: boolean;
  /** A server that neither accepts nor refuses the upgrade within this time is spoken to plainly. Default 5000. */
  handshakeTimeoutMs?: number;
  /** `peer.service` of client spans: the remote service's name in Zipkin. */
  remoteServiceName?: string;
  /** Sent as RequestHeader.client_id (Finagle's ClientId). */
  clientId?: string;
  /** The `thrift` module to use. Default: `require('thrift')`. */
  thrift?: ThriftModule;
}

type Callback = (err: unknown, result?: unknown) => void;
/** The generated client, as far as the connection dispatches replies to it. */
interface GeneratedClient {
  _reqs: Record<number, Callback | undefined>;
  [recv: string]: unknown;
}

interface Call {
  span: Span;
  callerContext: Context;
}

interface Outgoing {
  message: Buffer;
  header: TTwitterTrace;
}

type State = 'idle' | 'connecting' | 'handshaking' | 'ready' | 'ended';

/**
 * A Thrift client connection that traces each call and carries its trace context with Finagle's
 * TTwitter upgrade. Use it where `thrift.createConnection` would go:
 * `const client = thrift.createClient(Service, createTTwitterConnection(tracing, host, port))`.
 *
 * - On each new connection it sends `__can__finagle__trace__v3__` and holds calls until the
 *   answer: a REPLY upgrades the connection (every call is then preceded by a RequestHeader and
 *   every reply by a ResponseHeader); an EXCEPTION (a plain server) or no answer within
 *   `handshakeTimeoutMs` leaves it plain.
 * - Every call is a CLIENT span named after the method, child of the caller's active span; it ends
 *   when the reply is read, with `error` = the exception's message when there is one. Callbacks
 *   run in the caller's context.
 * - A closed connection fails its calls in flight; the next call opens a new connection.
 * Emits `connect` (ready), `close` and, only when someone listens, `error`.
 */
export class TTwitterConnection extends EventEmitter {
  /** The transport class `thrift.createClient` builds the client's output with (raw bytes out). */
  readonly transport: ThriftTransportClass;
  /** The protocol class the generated client writes with. */
  readonly protocol: ThriftProtocolClass;
  /** Set by `thrift.createClient`. */
  client: GeneratedClient | undefined;

  private readonly thrift: ThriftModule;
  private readonly framing: ThriftFraming;
  private readonly calls = new Map<number, Call>();
  private queue: Outgoing[] = [];
  private socket: net.Socket | undefined;
  private state: State = 'idle';
  private isUpgraded = false;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private handshakeRefused = false;

  constructor(
    private readonly tracing: ThriftTracing,
    private readonly host: string,
    private readonly port: number,
    private readonly options: TTwitterClientOptions = {},
  ) {
    super();
    this.thrift = options.thrift ?? loadThrift();
    this.framing = framingOf(options.transport, this.thrift);
    this.transport = this.thrift.TBufferedTransport;
    this.protocol = options.protocol ?? this.thrift.TBinaryProtocol;
    this.connect();
  }

  /** True once the server accepted the TTwitter upgrade on the current connection. */
  get upgraded(): boolean {
    return this.isUpgraded;
  }

  /** True when calls go out at once (connected, handshake done). */
  get connected(): boolean {
    return this.state === 'ready';
  }

  /** Called by the generated client (through its transport) with one serialized call. */
  write(message: Buffer, _seqid?: number): void {
    if (this.state === 'ended') {
      this.failSeqid(this.seqidOf(message), new Error('TTwitterConnection: connection was ended'));
      return;
    }
    let header: TTwitterTrace;
    try {
      header = this.startCall(message);
    } catch {
      header = { traceId: newSpanId(), spanId: newSpanId(), sampling: 'deny' };
    }
    this.queue.push({ message, header });
    if (this.state === 'idle') this.connect();
    else if (this.state === 'ready') this.drain();
  }

  /** Closes the connection after pending writes; calls still in flight fail. */
  end(): void {
    this.state = 'ended';
    this.clearHandshakeTimer();
    this.socket?.end();
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.state = 'ended';
    this.clearHandshakeTimer();
    this.socket?.destroy();
  }

  private startCall(message: Buffer): TTwitterTrace {
    const callerContext = context.active();
    let name = 'unknown';
    let seqid: number | undefined;
    let oneway = false;
    try {
      const begin = new this.protocol(new this.thrift.TFramedTransport(message)).readMessageBegin();
      name = begin.fname;
      seqid = begin.rseqid;
      oneway = begin.mtype === TMessageType.ONEWAY;
    } catch {
      // not a message we can read: traced under a placeholder name
    }
    const span = this.tracing.tracer.startSpan(name, { kind: SpanKind.CLIENT }, callerContext);
    if (this.options.remoteServiceName && span.isRecording()) span.setAttribute('peer.service', this.options.remoteServiceName);
    const header = ttwitterTraceOf(span, this.options.clientId);
    if (oneway || seqid === undefined) {
      this.endSpan(span, undefined);
    } else {
      this.calls.set(seqid, { span, callerContext });
    }
    return header;
  }

  private connect(): void {
    this.state = 'connecting';
    this.isUpgraded = false;
    const socket = net.connect({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setNoDelay(true);
    const Receiver = this.framing === 'framed' ? this.thrift.TFramedTransport : this.thrift.TBufferedTransport;
    const onData = Receiver.receiver((transport) => this.onMessages(transport));
    socket.on('data', (data: Buffer) => {
      try {
        onData(data);
      } catch (err) {
        this.emitError(err);
        socket.destroy();
      }
    });
    socket.on('connect', () => this.onConnect(socket));
    socket.on('error', (err) => this.emitError(err));
    socket.on('close', () => this.onClose(socket));
  }

  private onConnect(socket: net.Socket): void {
    if (socket !== this.socket || this.state !== 'connecting') return;
    if (this.options.upgrade === false || this.handshakeRefused) {
      this.ready();
      return;
    }
    this.state = 'handshaking';
    const handshake = encodeWith(this.thrift, this.protocol, (out) => {
      out.writeMessageBegin(CAN_TRACE_METHOD, TMessageType.CALL, 0);
      writeEmptyStruct(out, 'ConnectionOptions');
      out.writeMessageEnd();
    });
    socket.write(this.framing === 'framed' ? frame([handshake]) : handshake);
    this.handshakeTimer = setTimeout(() => {
      if (socket === this.socket && this.state === 'handshaking') this.ready();
    }, this.options.handshakeTimeoutMs ?? 5000);
    this.handshakeTimer.unref();
  }

  private ready(): void {
    this.clearHandshakeTimer();
    this.state = 'ready';
    this.emit('connect');
    this.drain();
  }

  private drain(): void {
    const socket = this.socket;
    if (!socket) return;
    const queue = this.queue;
    this.queue = [];
    for (const out of queue) {
      const parts: Buffer[] = [];
      if (this.isUpgraded) {
        parts.push(encodeWith(this.thrift, this.protocol, (o) => writeRequestHeader(o, this.thrift, out.header)));
      }
      parts.push(out.message);
      socket.write(this.framing === 'framed' ? frame(parts) : Buffer.concat(parts));
    }
  }

  private onMessages(transport: ThriftTransport): void {
    const input = new this.protocol(transport);
    for (;;) {
      try {
        if (this.isUpgraded) input.skip(TType.STRUCT); // ResponseHeader
        const begin = input.readMessageBegin();
        if (begin.fname === CAN_TRACE_METHOD) {
          input.skip(TType.STRUCT);
          input.readMessageEnd();
          transport.commitPosition();
          if (this.state === 'handshaking') {
            this.isUpgraded = begin.mtype === TMessageType.REPLY;
            this.ready();
          }
          continue;
        }
        this.dispatch(begin.fname, begin.mtype, begin.rseqid, input);
        transport.commitPosition();
      } catch (err) {
        if (isUnderrun(this.thrift, err)) transport.rollbackPosition();
        else {
          this.emitError(err);
          this.socket?.destroy();
        }
        return;
      }
    }
  }

  /** Hands one reply to the generated client's `recv_<method>`, as thrift's Connection does. */
  private dispatch(fname: string, mtype: number, seqid: number, input: ThriftProtocol): void {
    const client = this.client;
    const recv = client?.[`recv_${fname}`];
    if (!client || typeof recv !== 'function') {
      input.skip(TType.STRUCT);
      input.readMessageEnd();
      this.emitError(new Error(`TTwitterConnection: reply to unknown method ${fname}`));
      return;
    }
    const dummy = -seqid;
    const call = this.calls.get(seqid);
    client._reqs[dummy] = (err, result) => {
      const original = client._reqs[seqid];
      delete client._reqs[seqid];
      this.calls.delete(seqid);
      if (call) {
        setPeer(call.span, this.socket?.remoteAddress, this.socket?.remotePort);
        this.endSpan(call.span, err ?? (mtype === TMessageType.EXCEPTION ? 'exception' : undefined));
      }
      if (!original) return;
      try {
        context.with(call?.callerContext ?? context.active(), () => original(err, result));
      } catch (callbackError) {
        // the application's callback threw: report it, keep the connection
        this.emitError(callbackError);
      }
    };
    try {
      (recv as (input: ThriftProtocol, mtype: number, seqid: number) => void).call(client, input, mtype, dummy);
    } finally {
      delete client._reqs[dummy];
    }
  }

  private onClose(socket: net.Socket): void {
    if (socket !== this.socket) return;
    this.clearHandshakeTimer();
    this.socket = undefined;
    const was = this.state;
    if (was !== 'ended') this.state = 'idle';
    // a server that hangs up on the handshake gets plain Thrift from now on
    if (was === 'handshaking') this.handshakeRefused = true;
    const queued = new Set(this.queue.map((q) => this.seqidOf(q.message)));
    const retry = was === 'handshaking' && this.queue.length > 0;
    const err = new Error(`TTwitterConnection: connection to ${this.host}:${this.port} closed`);
    for (const seqid of [...this.calls.keys()]) {
      if (retry && queued.has(seqid)) continue;
      this.failSeqid(seqid, err);
    }
    if (retry) this.connect();
    else this.queue = [];
    this.emit('close');
  }

  private failSeqid(seqid: number | undefined, err: Error): void {
    if (seqid === undefined) return;
    const call = this.calls.get(seqid);
    this.calls.delete(seqid);
    const callback = this.client?._reqs[seqid];
    if (this.client) delete this.client._reqs[seqid];
    if (call) this.endSpan(call.span, err);
    if (!callback) return;
    try {
      context.with(call?.callerContext ?? context.active(), () => callback(err));
    } catch (callbackError) {
      this.emitError(callbackError);
    }
  }

  private seqidOf(message: Buffer): number | undefined {
    try {
      return new this.protocol(new this.thrift.TFramedTransport(message)).readMessageBegin().rseqid;
    } catch {
      return undefined;
    }
  }

  private endSpan(span: Span, err: unknown): void {
    try {
      if (err !== undefined && err !== null) setErrorStatus(span, err);
      span.end();
    } catch {
      // never throw into the caller
    }
  }

  private emitError(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }
}

/**
 * Opens a traced TTwitter client connection to host:port (see {@link TTwitterConnection}); pass it
 * to `thrift.createClient(Service, connection)`.
 */
export function createTTwitterConnection(tracing: ThriftTracing, host: string, port: number, options: TTwitterClientOptions = {}): TTwitterConnection {
  return new TTwitterConnection(tracing, host, port, options);
}
