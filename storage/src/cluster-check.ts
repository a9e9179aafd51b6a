/**
 * The first call to a store, `GET /`, read as zipkin reads it (version and distribution) and, when
 * it fails, turned into one message that names the setting to change. What may pass by waiting
 * (the store or the proxy in front of it is down) stays retryable; what will not (credentials,
 * TLS, a server that is not Elasticsearch or OpenSearch, an unsupported version) is not.
 */
import { StorageError, isRetryableStatus } from './errors.js';
import type { EsHttp, EsResponse } from './http.js';
import { IndexNameFormatter } from './index-names.js';
import { assertSupported, parseClusterVersion } from './version.js';
import type { ClusterVersion } from './version.js';

function where(http: EsHttp): string {
  return http.origins !== undefined ? http.origins.join(',') : 'the store';
}

function bodyText(body: unknown): string {
  return typeof body === 'string' ? body : (JSON.stringify(body) ?? '');
}

/** Which credentials a 401 refused, as the flags that set them. */
function credentialsHint(http: EsHttp): string {
  switch (http.authMethod) {
    case 'api-key':
      return 'the API key was refused: check --es-api-key (or --es-api-key-file)';
    case 'basic':
      return 'the user name or password was refused: check --es-username and --es-password (or --es-password-file)';
    case 'url':
      return 'the user:password@ in --es was refused: check them';
    case 'none':
      return 'the store requires authentication: set --es-username and --es-password (or --es-api-key)';
    default:
      return 'the credentials were refused: check --es-username/--es-password or --es-api-key';
  }
}

/** Classifies a non-200 answer to `GET /`. */
export function rootAnswerError(http: EsHttp, res: EsResponse): StorageError {
  const at = where(http);
  const text = bodyText(res.body);
  const status = res.status;
  if (status === 401) return new StorageError('ES_AUTH_FAILED', `${at} answered 401 Unauthorized: ${credentialsHint(http)}`, { status });
  if (status === 403) {
    return new StorageError(
      'ES_FORBIDDEN',
      `${at} answered 403 Forbidden to GET /: the ${http.authMethod === 'api-key' ? 'API key' : 'user'} lacks the cluster "monitor" privilege`,
      { status },
    );
  }
  // nginx and other TLS fronts say so in a 400 page instead of closing the connection.
  if (status === 400 && /plain HTTP request was sent to HTTPS port/i.test(text)) {
    return new StorageError('ES_TLS_EXPECTED', `${at} is a TLS port: use https:// in --es (with --es-ca-file if its CA is not a system CA)`, { status });
  }
  if (status === 400 && /(no required SSL certificate|SSL certificate error)/i.test(text)) {
    return new StorageError('ES_TLS_CLIENT_CERT', `${at} requires a client certificate it trusts: set --es-cert-file and --es-key-file`, { status });
  }
  if (isRetryableStatus(status) || status >= 500) {
    return new StorageError('ES_UNAVAILABLE', `${at} answered ${status} to GET /: the store (or the proxy in front of it) is not ready`, { status });
  }
  return new StorageError(
    'ES_VERSION_UNREADABLE',
    `${at} answered ${status} to GET /: it does not look like Elasticsearch or OpenSearch; check the URL in --es`,
    { status },
  );
}

/**
 * `GET /` → the cluster's version, checked to be one zipkin supports. Rejects with a StorageError
 * whose `retryable` says whether waiting may help.
 */
export async function readClusterVersion(http: EsHttp): Promise<ClusterVersion> {
  const res = await http.request({ method: 'GET', path: '/' });
  if (res.status !== 200) throw rootAnswerError(http, res);
  let version: ClusterVersion;
  try {
    version = parseClusterVersion(res.body);
  } catch (err) {
    throw new StorageError(
      'ES_VERSION_UNREADABLE',
      `${where(http)} answered GET / but not like Elasticsearch or OpenSearch (${(err as Error).message.slice(0, 200)}); check the URL in --es`,
    );
  }
  try {
    assertSupported(version);
  } catch (err) {
    throw new StorageError('ES_VERSION_UNSUPPORTED', `${where(http)}: ${(err as Error).message}; point --es at a supported store`);
  }
  return version;
}

/** The store's health as a /health endpoint reports it. */
export interface StoreHealth {
  /** True when the span indices' health answered and is not red. */
  ok: boolean;
  /** green, yellow or red; `HTTP <status>` when the answer had none. */
  status?: string;
  /** Why the store could not be asked (unreachable, timed out); never holds a credential. */
  error?: string;
}

/**
 * zipkin-server's health check: the health of the span indices (`<index>*span-*`), which a user
 * limited to the zipkin indices may read (the whole cluster's health needs more privileges).
 * Never throws.
 */
export async function checkStoreHealth(http: EsHttp, index: string): Promise<StoreHealth> {
  try {
    const pattern = new IndexNameFormatter({ index }).formatType('span');
    const res = await http.request({ method: 'GET', path: `/_cluster/health/${encodeURIComponent(pattern)}` });
    const status = (res.body as { status?: unknown } | null | undefined)?.status;
    return { ok: res.status === 200 && status !== 'red', status: typeof status === 'string' ? status : `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
