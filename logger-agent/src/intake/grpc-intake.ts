/**
 * OTLP/gRPC: opentelemetry.proto.collector.trace.v1.TraceService/Export on @grpc/grpc-js, with
 * the request bytes decoded by our protobufjs schema (decode.ts), so both OTLP transports share one
 * decoder. Errors follow the OTLP specification: INVALID_ARGUMENT for a malformed request (not
 * retried by SDKs), RESOURCE_EXHAUSTED with a google.rpc.RetryInfo detail when the spool is over its
 * bound (the detail is what makes SDKs retry it, after the given delay), UNAVAILABLE when the spool
 * cannot be written.
 */
import * as grpc from '@grpc/grpc-js';
import { decodeOtlpProtobuf, IntakeRejection } from './decode.js';
import type { IntakeListenerOptions } from './intake-core.js';
import { encodeRpcStatus, ExportTraceServiceResponse } from './protos.js';
import { SpoolFullError } from './spool.js';

export type GrpcIntakeOptions = IntakeListenerOptions;

const identity = (b: Buffer): Buffer => b;

const TRACE_SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

const EMPTY_RESPONSE = Buffer.from(ExportTraceServiceResponse.encode({}).finish());

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class GrpcIntake {
  private server: grpc.Server | undefined;
  private boundPort: number | undefined;

  constructor(private readonly o: GrpcIntakeOptions) {}

  get port(): number | undefined {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const server = new grpc.Server({ 'grpc.max_receive_message_length': this.o.maxBodyBytes });
    server.addService(TRACE_SERVICE, {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => void this.export(call.request, callback),
    });
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(hostPort(this.o.host, this.o.port), grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => server.forceShutdown(), 5000);
      force.unref();
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private async export(request: Buffer, callback: grpc.sendUnaryData<Buffer>): Promise<void> {
    const protocol = 'otlp_grpc';
    try {
      await this.o.core.acceptOtlp(decodeOtlpProtobuf(request), protocol);
      callback(null, EMPTY_RESPONSE);
    } catch (err) {
      if (err instanceof IntakeRejection) {
        this.o.metrics.reject(protocol, err.reason);
        callback({ code: grpc.status.INVALID_ARGUMENT, details: `${err.reason}: ${err.message}` });
        return;
      }
      const delayMs = this.o.retryAfterSeconds * 1000;
      const metadata = new grpc.Metadata();
      if (err instanceof SpoolFullError) {
        this.o.metrics.requests.inc({ protocol, result: 'throttled' });
        const details = `${err.message}; retry after ${this.o.retryAfterSeconds} s`;
        metadata.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus(grpc.status.RESOURCE_EXHAUSTED, details, delayMs)));
        callback({ code: grpc.status.RESOURCE_EXHAUSTED, details, metadata });
        return;
      }
      this.o.metrics.requests.inc({ protocol, result: 'failed' });
      this.o.log.warn({ err }, 'intake could not spool a request');
      const details = 'the spool cannot be written; retry later';
      metadata.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus(grpc.status.UNAVAILABLE, details, delayMs)));
      callback({ code: grpc.status.UNAVAILABLE, details, metadata });
    }
  }
}
