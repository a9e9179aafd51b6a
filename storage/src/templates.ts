/**
 * Zipkin's three index templates (VersionSpecificTemplates), installed only when missing:
 * `GET <url>`, and `PUT <url>` only on 404 (EnsureIndexTemplate). An existing template is never
 * overwritten, so zipkin-server and we can point at the same cluster in either start order; only
 * our own RED template is replaced when it is an older version (it lacks a required field).
 *
 * URL: `/_index_template/<index><delim><type>_template` when a template priority is set on
 * ES >= 7.8 or OpenSearch (composable form), `/_template/...?include_type_name=true` on ES 6.7-6.x,
 * else `/_template/<index><delim><type>_template` (legacy, the default).
 */
import { StorageError } from './errors.js';
import type { EsHttp } from './http.js';
import { indexTypeDelimiter, versionAtLeast } from './version.js';
import type { ClusterVersion } from './version.js';
import type { IndexType } from './index-names.js';
import { RED_BUCKET_FIELDS } from './red-histogram.js';

export interface TemplateOptions {
  /** Index prefix (ES_INDEX). Default "zipkin". */
  index?: string;
  /** ES_INDEX_SHARDS. Default 5. */
  shards?: number;
  /** ES_INDEX_REPLICAS. Default 1 (the devstack uses 0). */
  replicas?: number;
  /** SEARCH_ENABLED. Default true. */
  searchEnabled?: boolean;
  /** STRICT_TRACE_ID. Default true. */
  strictTraceId?: boolean;
  /** ES_TEMPLATE_PRIORITY: set to use composable templates (ES >= 7.8, OpenSearch). */
  templatePriority?: number;
  /** Also the template of the RED window indices (`<index><delim>red-*`). Default false. */
  red?: boolean;
}

export interface IndexTemplate {
  type: IndexType;
  /** Path including any query string, e.g. "/_template/zipkin-span_template". */
  url: string;
  body: Record<string, unknown>;
  /**
   * Ours only (never one zipkin-server also installs): mapped fields an existing template must
   * have; one without them is an older version of ours and is replaced.
   */
  requiredFields?: readonly string[];
}

const KEYWORD = { type: 'keyword', norms: false };

function useComposable(v: ClusterVersion, priority: number | undefined): boolean {
  if (priority === undefined) return false;
  return v.distribution === 'opensearch' || versionAtLeast(v, 7, 8);
}

/** The three templates for a cluster version, as zipkin would PUT them. */
export function buildTemplates(version: ClusterVersion, options: TemplateOptions = {}): IndexTemplate[] {
  const index = options.index ?? 'zipkin';
  const shards = options.shards ?? 5;
  const replicas = options.replicas ?? 1;
  const searchEnabled = options.searchEnabled ?? true;
  const strictTraceId = options.strictTraceId ?? true;
  const priority = options.templatePriority;
  const delimiter = indexTypeDelimiter(version);
  const composable = useComposable(version, priority);
  const isEs = version.distribution === 'elasticsearch';
  const patternKey = isEs && version.major < 6 ? 'template' : 'index_patterns';
  const wrapType = isEs && version.major < 7;

  const url = (type: IndexType): string => {
    const name = `${index}${delimiter}${type}_template`;
    if (composable) return `/_index_template/${name}`;
    if (isEs && versionAtLeast(version, 6, 7) && version.major < 7) return `/_template/${name}?include_type_name=true`;
    return `/_template/${name}`;
  };

  const settings = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    'index.number_of_shards': shards,
    'index.number_of_replicas': replicas,
    'index.requests.cache.enable': true,
    ...extra,
  });

  const template = (type: IndexType, settingsBody: Record<string, unknown>, mappings: Record<string, unknown>): IndexTemplate => {
    const wrapped = wrapType ? { [type]: mappings } : mappings;
    const body: Record<string, unknown> = { [patternKey]: `${index}${delimiter}${type}-*` };
    if (composable) {
      body.template = { settings: settingsBody, mappings: wrapped };
      body.priority = priority;
    } else {
      body.settings = settingsBody;
      body.mappings = wrapped;
    }
    return { type, url: url(type), body };
  };

  const traceIdMapping = strictTraceId ? KEYWORD : { type: 'text', fielddata: 'true', analyzer: 'traceId_analyzer' };
  const spanSettings = strictTraceId
    ? settings()
    : settings({
        analysis: {
          analyzer: { traceId_analyzer: { type: 'custom', tokenizer: 'keyword', filter: 'traceId_filter' } },
          filter: { traceId_filter: { type: 'pattern_capture', patterns: ['([0-9a-f]{1,16})$'], preserve_original: true } },
        },
      });
  const spanMappings = searchEnabled
    ? {
        _source: { excludes: ['_q'] },
        dynamic_templates: [{ strings: { mapping: { type: 'keyword', norms: false, ignore_above: 256 }, match_mapping_type: 'string', match: '*' } }],
        properties: {
          traceId: traceIdMapping,
          name: KEYWORD,
          localEndpoint: { type: 'object', dynamic: false, properties: { serviceName: KEYWORD } },
          remoteEndpoint: { type: 'object', dynamic: false, properties: { serviceName: KEYWORD } },
          timestamp_millis: { type: 'date', format: 'epoch_millis' },
          duration: { type: 'long' },
          annotations: { enabled: false },
          tags: { enabled: false },
          _q: KEYWORD,
        },
      }
    : { properties: { traceId: traceIdMapping, annotations: { enabled: false }, tags: { enabled: false } } };

  const templates = [
    template('span', spanSettings, spanMappings),
    template('dependency', settings(), { enabled: false }),
    template('autocomplete', settings(), { enabled: true, properties: { tagKey: KEYWORD, tagValue: KEYWORD } }),
  ];
  if (options.red) {
    // the fields queries filter and sort on, and the sums as doc values (not indexed) so the
    // store adds them up: calls, errors and each duration bucket as its own field (red-window-store.ts)
    const sum = { type: 'double', index: false };
    templates.push({
      ...template('red', settings(), {
        dynamic: false,
        properties: {
          timestamp_millis: { type: 'date', format: 'epoch_millis' },
          serviceName: KEYWORD,
          spanName: KEYWORD,
          kind: KEYWORD,
          remoteServiceName: KEYWORD,
          collector: KEYWORD,
          flush: { type: 'integer' },
          calls: sum,
          errors: sum,
          ...Object.fromEntries(RED_BUCKET_FIELDS.map((f) => [f, sum])),
          endpoint: KEYWORD,
        },
      }),
      // a red template from before the summable fields or the endpoint (2026-12-03) is replaced
      requiredFields: ['calls', 'endpoint', ...RED_BUCKET_FIELDS],
    });
  }
  return templates;
}

/** What ensureTemplates did per template. */
export interface EnsureTemplatesResult {
  installed: string[];
  existing: string[];
}

/** Every key of every `properties` object in a template answer, whatever its form (legacy, typed, composable). */
function mappedFields(body: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(body)) for (const v of body) mappedFields(v, into);
  else if (body !== null && typeof body === 'object') {
    for (const [k, v] of Object.entries(body)) {
      if (k === 'properties' && v !== null && typeof v === 'object') for (const f of Object.keys(v)) into.add(f);
      mappedFields(v, into);
    }
  }
  return into;
}

/**
 * Installs each template that is missing (GET, then PUT only on 404), and replaces one of ours
 * that lacks a field it requires (`requiredFields`). Config-time: throws.
 */
export async function ensureTemplates(http: EsHttp, templates: readonly IndexTemplate[]): Promise<EnsureTemplatesResult> {
  const result: EnsureTemplatesResult = { installed: [], existing: [] };
  for (const t of templates) {
    const get = await http.request({ method: 'GET', path: t.url });
    const outdated = get.status === 200 && t.requiredFields !== undefined && !t.requiredFields.every((f) => mappedFields(get.body).has(f));
    if (get.status === 200 && !outdated) {
      result.existing.push(t.url);
      continue;
    }
    if (get.status !== 404 && !outdated) {
      throw (
        privilegeError('GET', t.url, get.status) ??
        new StorageError('ES_TEMPLATE_FAILED', `GET ${t.url} answered ${get.status}: ${preview(get.body)}`, {
          status: get.status,
          // Only an overloaded or restarting store may answer differently later.
          retryable: get.status === 429 || get.status >= 500,
        })
      );
    }
    const put = await http.request({ method: 'PUT', path: t.url, body: JSON.stringify(t.body) });
    const refused = privilegeError('PUT', t.url, put.status);
    if (refused !== undefined) throw refused;
    if (put.status < 200 || put.status >= 300) {
      throw new StorageError('ES_TEMPLATE_FAILED', `PUT ${t.url} answered ${put.status}: ${preview(put.body)}`, {
        status: put.status,
        retryable: put.status === 429 || put.status >= 500,
      });
    }
    result.installed.push(t.url);
  }
  return result;
}

/** 401/403 on a template call: the credentials worked for GET / but lack a privilege (or expired). */
function privilegeError(method: string, url: string, status: number): StorageError | undefined {
  if (status === 401)
    return new StorageError(
      'ES_AUTH_FAILED',
      `${method} ${url} answered 401: the credentials were refused; check --es-username/--es-password or --es-api-key`,
      { status },
    );
  if (status === 403) {
    return new StorageError(
      'ES_FORBIDDEN',
      `${method} ${url} answered 403: the store user or API key needs the "manage_index_templates" cluster privilege (or install the templates once with a user that has it)`,
      { status },
    );
  }
  return undefined;
}

function preview(body: unknown): string {
  const text = typeof body === 'string' ? body : (JSON.stringify(body) ?? '');
  return text.slice(0, 500);
}
