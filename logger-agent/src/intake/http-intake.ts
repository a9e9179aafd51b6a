/**
 * The intake's HTTP endpoints:
 *   POST /v1/traces      OTLP/HTTP: application/x-protobuf or application/json, optionally gzip.
 *                        200 with an ExportTraceServiceResponse in the request's encoding; errors
 *                        carry a google.rpc.Status in the same encoding, as the OTLP spec asks.
 *   POST /api/v2/spans   Zipkin: a JSON v2 list (application/json) or a proto3 ListOfSpans
 *                        (application/x-protobuf), optionally gzip; 202 as zipkin-server answers.
 * Answers: 400 malformed (reason in the body, counted by reason), 413 over --intake-max-body-bytes,
 * 415 unsupported content type, 429 + Retry-After when the spool is over its bound, 503 when the
 * spool cannot be written (both retryable by the client), 404/405 otherwise.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { decodeSpanList } from '@pintrace/model';
import { decodeOtlpJson, decodeOtlpProtobuf, decodeZipkinProtobuf, IntakeRejection } from './decode.js';
import type { IntakeListenerOptions } from './intake-core.js';
import type { IntakeProtocol } from './metrics.js';
import { encodeRpcStatus, ExportTraceServiceResponse } from './protos.js';
import { SpoolFullError } from './spool.js';

const gunzipAsync = promisify(gunzip);

export interface HttpIntakeOptions extends IntakeListenerOptions {
  /** Which routes this listener serves. */
  routes: { otlp: boolean; zipkin: boolean };
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

type Encoding = 'protobuf' | 'json';

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAVAILABLE = 14;

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** An OTLP error body: google.rpc.Status in the request's encoding. */
function otlpStatus(status: number, encoding: Encoding, code: number, message: string, retryDelayMs?: number, headers: Record<string, string> = {}): Reply {
  if (encoding === 'protobuf') {
    return { status, headers: { 'content-type': 'application/x-protobuf', ...headers }, body: encodeRpcStatus(code, message, retryDelayMs) };
  }
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ code, message }) };
}

function text(status: number, message: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body: `${message}\n` };
}

class BodyTooLarge extends Error {}

async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > max) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export class HttpIntake {
  private server: http.Server | undefined;

  constructor(private readonly o: HttpIntakeOptions) {}

  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      void this.handle(req).then(
        (reply) => {
          res.writeHead(reply.status, reply.headers);
          res.end(reply.body);
        },
        (err: unknown) => {
          this.o.log.error({ err }, 'intake request failed unexpectedly');
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end();
        },
      );
    });
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    // requests in flight get a moment to be answered; kept-alive idle connections go at once
    const force = setTimeout(() => server.closeAllConnections(), 2000);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    clearTimeout(force);
  }

  private async handle(req: http.IncomingMessage): Promise<Reply> {
    const url = (req.url ?? '/').split('?')[0];
    const otlp = this.o.routes.otlp && url === '/v1/traces';
    const zipkin = this.o.routes.zipkin && (url === '/api/v2/spans' || url === '/zipkin/api/v2/spans');
    if (!otlp && !zipkin) {
      req.resume();
      return text(404, 'not found');
    }
    if (req.method !== 'POST') {
      req.resume();
      return text(405, 'use POST', { allow: 'POST' });
    }
    const protocol: IntakeProtocol = otlp ? 'otlp_http' : 'zipkin';
    const type = mediaType(req.headers['content-type']);
    const encoding: Encoding = type === 'application/x-protobuf' || type === 'application/protobuf' ? 'protobuf' : 'json';
    const supported = type === 'application/x-protobuf' || type === 'application/protobuf' || type === 'application/json' || (zipkin && type === '');
    if (!supported) {
      req.resume();
      this.o.metrics.reject(protocol, 'content_type');
      const message = `unsupported content type ${JSON.stringify(type)}: send application/x-protobuf or application/json`;
      return otlp ? otlpStatus(415, 'json', GRPC_INVALID_ARGUMENT, message) : text(415, message);
    }
    const fail = (status: number, code: number, message: string, retryDelayMs?: number, headers: Record<string, string> = {}): Reply =>
      otlp ? otlpStatus(status, encoding, code, message, retryDelayMs, headers) : text(status, message, headers);

    try {
      let body = await readBody(req, this.o.maxBodyBytes);
      const contentEncoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
      if (contentEncoding === 'gzip' && body.length > 0) {
        try {
          body = await gunzipAsync(body, { maxOutputLength: this.o.maxBodyBytes });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new BodyTooLarge();
          throw new IntakeRejection('bad_encoding', `cannot gunzip the body: ${(err as Error).message}`);
        }
      } else if (contentEncoding !== '' && contentEncoding !== 'identity') {
        throw new IntakeRejection('bad_encoding', `unsupported content encoding ${JSON.stringify(contentEncoding)}`);
      }
      if (otlp) {
        // An empty protobuf body is a valid, empty request; an empty JSON body is not JSON.
        if (encoding === 'json' && body.length === 0) throw new IntakeRejection('empty_body', 'empty body: send an ExportTraceServiceRequest');
        const traces = encoding === 'protobuf' ? decodeOtlpProtobuf(body) : decodeOtlpJson(body);
        await this.o.core.acceptOtlp(traces, protocol);
        return encoding === 'protobuf'
          ? { status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: ExportTraceServiceResponse.encode({}).finish() }
          : { status: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
      }
      // zipkin-server answers 202 to an empty body or an empty list
      if (body.length === 0) return { status: 202, headers: {}, body: '' };
      if (encoding === 'protobuf') {
        await this.o.core.acceptZipkin(decodeZipkinProtobuf(body), protocol);
      } else {
        const decoded = decodeSpanList(body);
        if (!decoded.ok) throw new IntakeRejection('malformed_json', decoded.message);
        const first = decoded.rejected[0];
        if (first !== undefined) {
          throw new IntakeRejection(
            first.reason === 'malformed_json'
              ? 'malformed_json'
              : first.reason.includes('trace_id')
                ? 'invalid_trace_id'
                : first.reason === 'invalid_id' || first.reason === 'missing_id'
                  ? 'invalid_span_id'
                  : 'invalid_span',
            first.message,
          );
        }
        await this.o.core.acceptZipkin(decoded.spans, protocol);
      }
      return { status: 202, headers: {}, body: '' };
    } catch (err) {
      if (err instanceof IntakeRejection) {
        this.o.metrics.reject(protocol, err.reason);
        return fail(400, GRPC_INVALID_ARGUMENT, `${err.reason}: ${err.message}`);
      }
      if (err instanceof BodyTooLarge) {
        req.resume();
        this.o.metrics.reject(protocol, 'body_too_large');
        return fail(413, GRPC_INVALID_ARGUMENT, `body_too_large: the body is over ${this.o.maxBodyBytes} bytes`, undefined, { connection: 'close' });
      }
      const seconds = this.o.retryAfterSeconds;
      if (err instanceof SpoolFullError) {
        this.o.metrics.requests.inc({ protocol, result: 'throttled' });
        return fail(429, GRPC_RESOURCE_EXHAUSTED, `${err.message}; retry after ${seconds} s`, seconds * 1000, { 'retry-after': String(seconds) });
      }
      this.o.metrics.requests.inc({ protocol, result: 'failed' });
      this.o.log.warn({ err }, 'intake could not spool a request');
      return fail(503, GRPC_UNAVAILABLE, 'the spool cannot be written; retry later', seconds * 1000, { 'retry-after': String(seconds) });
    }
  }
}
