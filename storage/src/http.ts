/**
 * The one place that talks HTTP to Elasticsearch, over the @elastic/elasticsearch client's
 * transport. Everything else in this package sees only {@link EsHttp}, so the client can be
 * swapped and tests can use a fake. The client's own retries are disabled: the bulk writer owns
 * retrying (including 429, which the client would not retry).
 */
import { Client, errors } from '@elastic/elasticsearch';
import { StorageError } from './errors.js';

export interface EsRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** Path with optional query string, e.g. "/_bulk?refresh=wait_for". */
  path: string;
  /** JSON or NDJSON text (sent as is, UTF-8). */
  body?: string | Buffer;
  /** Send as application/x-ndjson (bulk). Default application/json. */
  ndjson?: boolean;
}

export interface EsResponse {
  status: number;
  /** Parsed JSON when the response was JSON, else text. */
  body: unknown;
}

/** Minimal HTTP to Elasticsearch. Any HTTP status resolves; network failures reject with ES_UNAVAILABLE. */
export interface EsHttp {
  request(req: EsRequest): Promise<EsResponse>;
  close(): Promise<void>;
}

export interface EsHttpOptions {
  /** One or more base URLs, e.g. "http://127.0.0.1:9200" (zipkin's ES_HOSTS). */
  url: string | string[];
  username?: string;
  password?: string;
  /** Elasticsearch API key (base64 id:key); sent as `Authorization: ApiKey …`. */
  apiKey?: string;
  /** PEM CA file for https. */
  caFile?: string;
  /** PEM client certificate and key for mutual TLS. */
  certFile?: string;
  keyFile?: string;
  /** Per-request timeout (ES_TIMEOUT). Default 10000 ms. */
  requestTimeoutMs?: number;
}

const ALL_ERROR_STATUSES = Array.from({ length: 200 }, (_, i) => 400 + i);

/** Creates an {@link EsHttp} backed by the @elastic/elasticsearch client transport. */
export function createEsHttp(options: EsHttpOptions): EsHttp {
  const nodes = Array.isArray(options.url) ? options.url : options.url.split(',').map((u) => u.trim());
  if (nodes.length === 0 || nodes.some((u) => !/^https?:\/\/[^/]+/.test(u))) {
    throw new StorageError('STORAGE_CONFIG_INVALID', `Elasticsearch url must be http(s)://host:port, was "${String(options.url)}"`);
  }
  const client = new Client({
    nodes,
    maxRetries: 0,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    compression: false,
    ...(options.username !== undefined ? { auth: { username: options.username, password: options.password ?? '' } } : {}),
  });
  return {
    async request(req: EsRequest): Promise<EsResponse> {
      const q = req.path.indexOf('?');
      const path = q < 0 ? req.path : req.path.slice(0, q);
      const querystring = q < 0 ? undefined : Object.fromEntries(new URLSearchParams(req.path.slice(q + 1)));
      try {
        const res = await client.transport.request(
          { method: req.method, path, ...(req.body !== undefined ? { body: req.body } : {}), ...(querystring ? { querystring } : {}) },
          {
            meta: true,
            ignore: ALL_ERROR_STATUSES,
            headers: {
              'content-type': req.ndjson ? 'application/x-ndjson' : 'application/json; charset=utf-8',
              accept: 'application/json',
            },
          },
        );
        return { status: res.statusCode ?? 0, body: res.body };
      } catch (err) {
        if (err instanceof errors.ResponseError) {
          return { status: err.statusCode ?? 0, body: err.body };
        }
        const message = err instanceof Error ? err.message : String(err);
        throw new StorageError('ES_UNAVAILABLE', `${req.method} ${path} failed: ${message}`, { cause: err });
      }
    },
    async close(): Promise<void> {
      await client.close();
    },
  };
}
