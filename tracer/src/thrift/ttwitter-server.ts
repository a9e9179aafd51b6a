import net from 'node:net';
import { context, SpanKind, trace, type Attributes, type Span } from '@opentelemetry/api';
import { encodeWith, frame, framingOf, isUnderrun, loadThrift, TMessageType, TType } from './thrift-module.js';
import type { ThriftFraming, ThriftModule, ThriftProtocol, ThriftProtocolClass, ThriftTransport, ThriftTransportClass } from './thrift-module.js';
import { remoteContextOf, replyError, setErrorStatus, THRIFT_TAGS, type ThriftTracing } from './thrift-tracing.js';
import { CAN_TRACE_METHOD, readRequestHeader, writeEmptyStruct, type TTwitterTrace } from './tracing-headers.js';

export interface TTwitterServerOptions {
  /** Wire framing. Default `framed` (Finagle's default); `buffered` is the npm library's default. */
  transport?: ThriftFraming | ThriftTransportClass;
  /** Protocol class. Default the library's TBinaryProtocol. */
  protocol?: ThriftProtocolClass;
  /** Largest frame or buffered message accepted, in bytes. Default the transport's default. */
  maxLength?: number;
  /** The `thrift` module to use. Default: `require('thrift')`. */
  thrift?: ThriftModule;
}

/** A generated processor: `process(input, output)` reads one call and writes its reply. */
export interface ThriftProcessor {
  process(input: ThriftProtocol, output: ThriftProtocol): unknown;
}

/** A generated service module (`{ Processor }`) or its Processor class. */
export type ThriftService = { Processor: new (handler: never) => ThriftProcessor } | (new (handler: never) => ThriftProcessor);

/**
 * A net.Server for a generated Thrift service that traces every call and speaks Finagle's TTwitter
 * upgrade to clients that ask for it, plain Thrift to the others:
 *
 * - `__can__finagle__trace__v3__` is answered with an UpgradeReply; from then on each request on
 *   that connection is read as RequestHeader + message and each reply is written as
 *   ResponseHeader + message (oneway calls get no reply).
 * - Each call runs the handler inside a SERVER span named after the method, in the caller's trace
 *   (the span joins the caller's span, Zipkin style, like a B3 server span); the caller's address
 *   is the remote endpoint; the span ends when the reply is written, with `error` set when the
 *   reply is a TApplicationException or a declared exception. Calls from plain clients start a
 *   new trace and are tagged `srv/thrift/ttwitter=false`, as Finagle does.
 *
 * Use it where `thrift.createServer(Service, handler, options)` would go.
 */
export function createTTwitterServer(tracing: ThriftTracing, service: ThriftService, handler: object, options: TTwitterServerOptions = {}): net.Server {
  const thrift = options.thrift ?? loadThrift();
  const framing = framingOf(options.transport, thrift);
  const Protocol = options.protocol ?? thrift.TBinaryProtocol;
  const ProcessorClass = 'Processor' in service ? service.Processor : service;
  const processor = new ProcessorClass(handler as never);
  const server = net.createServer((socket) => {
    const connection = new ServerConnection(tracing, thrift, framing, Protocol, processor, socket);
    connection.start(options.maxLength);
  });
  return server;
}

class ServerConnection {
  private upgraded = false;

  constructor(
    private readonly tracing: ThriftTracing,
    private readonly thrift: ThriftModule,
    private readonly framing: ThriftFraming,
    private readonly Protocol: ThriftProtocolClass,
    private readonly processor: ThriftProcessor,
    private readonly socket: net.Socket,
  ) {}

  start(maxLength: number | undefined): void {
    const socket = this.socket;
    const Receiver = this.framing === 'framed' ? this.thrift.TFramedTransport : this.thrift.TBufferedTransport;
    const limit = maxLength ?? (Receiver as unknown as { DEFAULT_MAX_LENGTH?: number }).DEFAULT_MAX_LENGTH;
    const onData = Receiver.receiver((transport) => this.onMessages(transport), undefined, limit);
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      try {
        onData(data);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('end', () => socket.end());
  }

  private onMessages(transport: ThriftTransport): void {
    const input = new this.Protocol(transport);
    for (;;) {
      try {
        const header = this.upgraded ? readRequestHeader(input) : undefined;
        const begin = input.readMessageBegin();
        if (begin.fname === CAN_TRACE_METHOD && !this.upgraded) {
          input.skip(TType.STRUCT);
          input.readMessageEnd();
          transport.commitPosition();
          this.upgraded = true;
          this.send(
            encodeWith(this.thrift, this.Protocol, (out) => {
              out.writeMessageBegin(CAN_TRACE_METHOD, TMessageType.REPLY, begin.rseqid);
              writeEmptyStruct(out, 'UpgradeReply');
              out.writeMessageEnd();
            }),
            false,
          );
          continue;
        }
        // the processor reads the message begin again: hand it the one already read
        const read = input.readMessageBegin;
        input.readMessageBegin = () => {
          input.readMessageBegin = read;
          return begin;
        };
        this.process(begin.fname, begin.mtype, header, input);
        transport.commitPosition();
      } catch (err) {
        if (isUnderrun(this.thrift, err) || (err as Error | undefined)?.message === 'Invalid type: undefined') {
          transport.rollbackPosition();
        } else {
          this.socket.destroy();
        }
        return;
      }
    }
  }

  private process(method: string, mtype: number, header: TTwitterTrace | undefined, input: ThriftProtocol): void {
    const upgraded = this.upgraded;
    const parent = remoteContextOf(header);
    const attributes: Attributes = {};
    if (this.socket.remoteAddress) attributes['network.peer.address'] = this.socket.remoteAddress;
    if (this.socket.remotePort) attributes['network.peer.port'] = this.socket.remotePort;
    if (!upgraded) attributes[THRIFT_TAGS.ttwitter] = 'false';
    if (header?.clientId) attributes[THRIFT_TAGS.clientId] = header.clientId;
    const span = this.tracing.tracer.startSpan(method, { kind: SpanKind.SERVER, attributes }, parent);
    let replied = false;
    const output = new this.Protocol(
      new this.thrift.TBufferedTransport(undefined, (reply) => {
        if (replied) return this.send(reply, upgraded);
        replied = true;
        this.endSpan(span, reply);
        this.send(reply, upgraded);
      }),
    );
    context.with(trace.setSpan(parent, span), () => this.processor.process(input, output));
    if (mtype === TMessageType.ONEWAY) this.endSpan(span, undefined);
  }

  private endSpan(span: Span, reply: Buffer | undefined): void {
    try {
      if (reply && span.isRecording()) {
        const error = replyError(this.thrift, this.Protocol, reply);
        if (error) setErrorStatus(span, error);
      }
      span.end();
    } catch {
      // never throw into the handler's reply
    }
  }

  /** Writes one message, with a ResponseHeader in front on an upgraded connection. */
  private send(message: Buffer, withHeader: boolean): void {
    if (this.socket.destroyed) return;
    const parts: Buffer[] = [];
    if (withHeader) parts.push(encodeWith(this.thrift, this.Protocol, (out) => writeEmptyStruct(out, 'ResponseHeader')));
    parts.push(message);
    this.socket.write(this.framing === 'framed' ? frame(parts) : Buffer.concat(parts));
  }
}
