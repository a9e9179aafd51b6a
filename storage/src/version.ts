/**
 * Cluster version detection as zipkin does it (BaseVersion.Parser): `GET /`, read
 * `.version.number` (must start with digits '.' digits) and `.version.distribution`; "opensearch"
 * (any case) means OpenSearch, anything else Elasticsearch.
 *
 * Rules that follow from the version:
 * - supported: Elasticsearch 5.0 <= v < 10.0, OpenSearch 1.0 <= v < 4.0;
 * - index type delimiter: ':' on Elasticsearch < 7, '-' otherwise (always '-' on OpenSearch);
 * - bulk meta carries "_type" on Elasticsearch < 7 and OpenSearch < 2.
 */
import { StorageError } from './errors.js';

export interface ClusterVersion {
  distribution: 'elasticsearch' | 'opensearch';
  major: number;
  minor: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Parses the body of `GET /`. Throws StorageError (config-time, not a hot path). */
export function parseClusterVersion(body: unknown): ClusterVersion {
  const version = isObject(body) && isObject(body.version) ? body.version : undefined;
  const number = version !== undefined && typeof version.number === 'string' ? version.number : undefined;
  if (number === undefined) {
    const text = JSON.stringify(body) ?? String(body);
    throw new StorageError('ES_VERSION_UNREADABLE', `.version.number not found in response: ${text.slice(0, 500)}`);
  }
  const match = /^(\d+)\.(\d+)/.exec(number);
  if (match === null) throw new StorageError('ES_VERSION_UNREADABLE', `Invalid .version.number: ${number}`);
  const distribution = typeof version!.distribution === 'string' && version!.distribution.toLowerCase() === 'opensearch' ? 'opensearch' : 'elasticsearch';
  return { distribution, major: Number(match[1]), minor: Number(match[2]) };
}

function atLeast(v: ClusterVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** Throws ES_VERSION_UNSUPPORTED unless zipkin 3.6 supports the version. */
export function assertSupported(v: ClusterVersion): void {
  if (v.distribution === 'opensearch') {
    if (!atLeast(v, 1, 0) || atLeast(v, 4, 0)) {
      throw new StorageError('ES_VERSION_UNSUPPORTED', `OpenSearch versions 1-3.x are supported, was: ${v.major}.${v.minor}`);
    }
  } else if (!atLeast(v, 5, 0) || atLeast(v, 10, 0)) {
    throw new StorageError('ES_VERSION_UNSUPPORTED', `Elasticsearch versions 5-9.x are supported, was: ${v.major}.${v.minor}`);
  }
}

/** ':' before Elasticsearch 7, '-' after (and always on OpenSearch). */
export function indexTypeDelimiter(v: ClusterVersion): ':' | '-' {
  return v.distribution === 'elasticsearch' && v.major < 7 ? ':' : '-';
}

/** Whether bulk meta lines need "_type" (mapping types still exist). */
export function supportsTypes(v: ClusterVersion): boolean {
  return v.distribution === 'opensearch' ? v.major < 2 : v.major < 7;
}

/** Version comparison helper for template variants. */
export function versionAtLeast(v: ClusterVersion, major: number, minor = 0): boolean {
  return atLeast(v, major, minor);
}
