import { createRequire } from 'node:module';
import { TracingConfigError } from '../errors.js';

/**
 * The parts of the npm `thrift` library (0.16 … 0.24) the TTwitter wrappers use, typed here so
 * the tracer needs neither `thrift` at load time nor `@types/thrift`. `thrift` is an optional
 * peer dependency: it is required the first time a Thrift wrapper is created.
 */

/** `{ fname, mtype, rseqid }` as `readMessageBegin` returns it. */
export interface ThriftMessageBegin {
  fname: string;
  mtype: number;
  rseqid: number;
}

export interface ThriftFieldBegin {
  fname: string;
  ftype: number;
  fid: number;
}

/** An Int64 of the library (node-int64): 8 big-endian bytes at `offset`. */
export interface ThriftInt64 {
  buffer: Buffer;
  offset?: number;
}

/** A Thrift protocol instance (TBinaryProtocol, TCompactProtocol). */
export interface ThriftProtocol {
  writeMessageBegin(name: string, type: number, seqid: number): void;
  writeMessageEnd(): void;
  writeStructBegin(name: string): void;
  writeStructEnd(): void;
  writeFieldBegin(name: string, type: number, id: number): void;
  writeFieldEnd(): void;
  writeFieldStop(): void;
  writeListBegin(elemType: number, size: number): void;
  writeListEnd(): void;
  writeBool(value: boolean): void;
  writeI64(value: ThriftInt64): void;
  writeString(value: string): void;
  readMessageBegin(): ThriftMessageBegin;
  readMessageEnd(): void;
  readStructBegin(): unknown;
  readStructEnd(): void;
  readFieldBegin(): ThriftFieldBegin;
  readFieldEnd(): void;
  readListBegin(): { etype: number; size: number };
  readListEnd(): void;
  readBool(): boolean;
  readI64(): ThriftInt64;
  readString(): string;
  skip(type: number): void;
  flush(): unknown;
}

/** A transport instance: written by protocols, `flush()` hands the bytes to its callback. */
export interface ThriftTransport {
  flush(): void;
  commitPosition(): void;
  rollbackPosition(): void;
}

export type FlushCallback = (message: Buffer, seqid?: number) => void;

/** TFramedTransport or TBufferedTransport (the class). */
export interface ThriftTransportClass {
  new (buffer?: Buffer, onFlush?: FlushCallback): ThriftTransport;
  receiver(onMessage: (transport: ThriftTransport) => void, seqid?: number, maxLength?: number): (data: Buffer) => void;
  readonly name: string;
}

export type ThriftProtocolClass = new (transport: ThriftTransport) => ThriftProtocol;

export interface ThriftModule {
  TFramedTransport: ThriftTransportClass;
  TBufferedTransport: ThriftTransportClass;
  TBinaryProtocol: ThriftProtocolClass;
  Int64: new (buffer: Buffer) => ThriftInt64;
  InputBufferUnderrunError: new (...args: never[]) => Error;
  Thrift: {
    TApplicationException: new (type?: number, message?: string) => Error & { write(output: ThriftProtocol): void };
    TApplicationExceptionType: Record<string, number>;
  };
}

/** Thrift type ids (TType). */
export const TType = { STOP: 0, BOOL: 2, I64: 10, STRING: 11, STRUCT: 12, LIST: 15 } as const;

/** Thrift message types (TMessageType). */
export const TMessageType = { CALL: 1, REPLY: 2, EXCEPTION: 3, ONEWAY: 4 } as const;

let loaded: ThriftModule | undefined;

/** The `thrift` package as resolved from the tracer (the application's copy in a normal install). */
export function loadThrift(): ThriftModule {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('thrift') as ThriftModule;
    return loaded;
  } catch (err) {
    throw new TracingConfigError('Thrift tracing needs the npm package `thrift` (0.16 or later): npm install thrift', {
      cause: err,
    });
  }
}

/** Wire framing: `framed` (Finagle's default) or `buffered` (the npm library's default). */
export type ThriftFraming = 'framed' | 'buffered';

export function framingOf(value: ThriftFraming | ThriftTransportClass | undefined, thrift: ThriftModule): ThriftFraming {
  if (value === undefined || value === 'framed' || value === thrift.TFramedTransport) return 'framed';
  if (value === 'buffered' || value === thrift.TBufferedTransport) return 'buffered';
  throw new TracingConfigError(
    `Thrift tracing supports transport 'framed' or 'buffered' (TFramedTransport / TBufferedTransport), got ${String(
      (value as { name?: string }).name ?? value,
    )}`,
  );
}

/** Puts a 4-byte big-endian length in front of a payload (TFramedTransport's framing). */
export function frame(parts: Buffer[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = Buffer.allocUnsafe(4 + length);
  out.writeInt32BE(length, 0);
  let at = 4;
  for (const part of parts) {
    part.copy(out, at);
    at += part.length;
  }
  return out;
}

/** Serializes whatever `write` puts through a protocol of class `Protocol` into bytes. */
export function encodeWith(thrift: ThriftModule, Protocol: ThriftProtocolClass, write: (out: ThriftProtocol) => void): Buffer {
  let bytes: Buffer = Buffer.alloc(0);
  const transport = new thrift.TBufferedTransport(undefined, (message) => {
    bytes = message;
  });
  const out = new Protocol(transport);
  write(out);
  out.flush();
  return bytes;
}

/** True for the errors a reader throws when a message is not complete yet. */
export function isUnderrun(thrift: ThriftModule, err: unknown): boolean {
  return err instanceof thrift.InputBufferUnderrunError || (err as Error | undefined)?.name === 'InputBufferUnderrunError';
}
