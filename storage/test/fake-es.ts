import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EsHttp, EsRequest, EsResponse } from '../src/http.js';

export interface FakeRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeReply {
  status: number;
  body?: unknown;
  /** Destroy the socket instead of answering (network failure). */
  hangUp?: boolean;
}

/** A scripted HTTP server standing in for Elasticsearch in unit tests. */
export class FakeElasticsearch {
  readonly requests: FakeRequest[] = [];
  private server: Server | undefined;
  inFlight = 0;
  maxInFlight = 0;
  /** Milliseconds to hold each bulk answer (to observe concurrency). */
  bulkDelayMs = 0;

  constructor(private readonly handler: (req: FakeRequest) => FakeReply) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const request: FakeRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(request);
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        const reply = (): void => {
          this.inFlight--;
          const r = this.handler(request);
          if (r.hangUp) {
            req.socket.destroy();
            return;
          }
          const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {});
          res.writeHead(r.status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
          res.end(text);
        };
        if (request.url.startsWith('/_bulk') && this.bulkDelayMs > 0) setTimeout(reply, this.bulkDelayMs);
        else reply();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  bulkRequests(): FakeRequest[] {
    return this.requests.filter((r) => r.url.startsWith('/_bulk'));
  }
}

/** The _ids of a bulk body, in order. */
export function bulkIds(body: string): string[] {
  return body
    .split('\n')
    .filter((l, i) => i % 2 === 0 && l !== '')
    .map((l) => (JSON.parse(l) as { index: { _id: string } }).index._id);
}

/** A bulk answer for `body` where `statusOf(id, i)` decides each item. */
export function bulkAnswer(body: string, statusOf: (id: string, i: number) => number | { status: number; type: string }): unknown {
  const ids = bulkIds(body);
  const items = ids.map((id, i) => {
    const s = statusOf(id, i);
    const status = typeof s === 'number' ? s : s.status;
    const error =
      status >= 300
        ? { type: typeof s === 'number' ? (status === 429 ? 'es_rejected_execution_exception' : 'mapper_parsing_exception') : s.type, reason: `fake ${status}` }
        : undefined;
    return { index: { _index: 'x', _id: id, status, ...(error ? { error } : {}) } };
  });
  return { took: 1, errors: items.some((i) => i.index.status >= 300), items };
}

/** An EsHttp answering each request with the next scripted answer, recording what was asked (no sockets). */
export function fakeHttp(answers: Array<(req: EsRequest) => EsResponse>) {
  const requests: EsRequest[] = [];
  const http: EsHttp = {
    request: async (req) => {
      requests.push(req);
      const next = answers.shift();
      if (!next) throw new Error(`unexpected request ${req.method} ${req.path}`);
      return next(req);
    },
    close: async () => {},
  };
  return { http, requests };
}
