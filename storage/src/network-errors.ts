/**
 * What a failed connection to the store means, from the error code Node's TLS/net layers (through
 * undici) report: a store that is down may come up (retryable), a TLS setting that is wrong will
 * not (fail fast, naming the setting). Codes, not message text, decide; OpenSSL codes are the
 * `ERR_SSL_*` names Node gives alerts and record errors.
 */
import { StorageError } from './errors.js';

/** The server's certificate could not be verified against the trusted CAs. */
const UNTRUSTED_CERT = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_CA',
]);

/** The TLS client met a peer that does not speak TLS (it answered in plain HTTP). */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_UNKNOWN_PROTOCOL', 'EPROTO']);

/** Alerts a server sends when it wants a client certificate or rejects ours. */
export const CLIENT_CERT_ALERTS: ReadonlySet<string> = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);

/** Code of http.ts's own request deadline (its timer keeps the process alive; undici's do not). */
export const DEADLINE = 'ES_REQUEST_DEADLINE';

/** Plain-language names of the codes a user meets when a store is down. */
const DOWN: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'answer stalled',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'client closed',
  [DEADLINE]: 'no answer in time',
};

/** The Node/undici error code of `err` (or of its cause). */
export function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** The first line of an error's message, without OpenSSL's file/line noise. */
function briefMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = message.split('\n')[0] ?? '';
  // OpenSSL: "80BC...:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/..."
  const ssl = /SSL routines:[^:]*:([^:]+)/.exec(line);
  return ssl?.[1] ?? line;
}

/**
 * Whether a failure could be a TLS port closing on plain text (http://) or on a handshake without
 * the client certificate it requires (https://): the connection was closed without an answer.
 */
export function closedWithoutAnswer(err: unknown): boolean {
  const code = errorCode(err);
  // A deadline too: a connection dropped in mid-handshake can leave undici waiting for nothing.
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE' || code === DEADLINE;
}

/**
 * Classifies a failed request to `origin` (scheme://host:port, never with credentials).
 * `what` names the call, e.g. "GET /".
 */
export function classifyNetworkError(err: unknown, origin: string, what: string): StorageError {
  const code = errorCode(err) ?? 'unknown';
  const detail = `${code}: ${briefMessage(err)}`;
  const secure = origin.startsWith('https:');
  if (UNTRUSTED_CERT.has(code)) {
    return new StorageError(
      'ES_TLS_CERT_UNTRUSTED',
      `${origin} presented a TLS certificate that is not trusted (${detail}): give the CA that signed it with --es-ca-file`,
      { cause: err },
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    return new StorageError(
      'ES_TLS_CERT_UNTRUSTED',
      `${origin} presented a TLS certificate that does not name this host (${detail}): put a host name the certificate names in --es`,
      { cause: err },
    );
  }
  if (secure && NOT_TLS.has(code)) {
    return new StorageError('ES_TLS_UNEXPECTED', `${origin} does not speak TLS (${detail}): use http:// in --es, or enable TLS on the store`, { cause: err });
  }
  if (secure && CLIENT_CERT_ALERTS.has(code)) {
    return new StorageError(
      'ES_TLS_CLIENT_CERT',
      `${origin} refused the TLS handshake for want of a client certificate it trusts (${detail}): set --es-cert-file and --es-key-file`,
      { cause: err },
    );
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('ERR_OSSL_')) {
    return new StorageError('ES_TLS_CERT_UNTRUSTED', `TLS handshake with ${origin} failed (${detail}): check --es-ca-file, --es-cert-file and --es-key-file`, {
      cause: err,
    });
  }
  const plain = DOWN[code];
  return new StorageError('ES_UNAVAILABLE', `${what} to ${origin} failed: ${plain !== undefined ? `${plain} (${code})` : detail}`, { cause: err });
}
