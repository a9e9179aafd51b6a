/** The ui-proxy's configuration: the shared options plus its own (flag > env > file > default). */
import { z } from 'zod';
import { commonOptions, kafkaConnectionOptions, storeConnectionOptions, booleanSchema, portSchema, positiveIntSchema } from '@pintrace/runtime';
import type { ConfigOf, OptionSpec } from '@pintrace/runtime';

const list = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

const basePathSchema = z
  .string()
  .trim()
  .transform((s) => s.replace(/\/+$/, ''))
  .refine((s) => s === '' || /^(\/[A-Za-z0-9._~-]+)+$/.test(s), 'a base path is "" or /segment[/segment...] of [A-Za-z0-9._~-]')
  .refine((s) => !/^\/api(\/|$)/.test(s), 'the base path cannot start with /api');

const usersSchema = list.pipe(z.array(z.string().regex(/^[^:]+:.+$/, 'each user is name:password')));

const hostSchema = z.string().trim().min(1, 'expected a host or address to listen on');

const optionalPath = z.string().trim().min(1, 'expected a file path');

const spec = <T>(s: OptionSpec<T>): OptionSpec<T> => s;

export const uiOptions = {
  es: commonOptions.es,
  ...storeConnectionOptions,
  kafka: commonOptions.kafka,
  ...kafkaConnectionOptions,
  topic: commonOptions.topic,
  port: spec({
    key: 'port',
    flag: 'port',
    env: 'PINTRACE_UI_PORT',
    description: 'HTTP port of the API and UI (0 picks a free port)',
    default: '9412',
    schema: portSchema,
  }),
  host: spec({
    key: 'host',
    flag: 'host',
    env: 'PINTRACE_UI_HOST',
    description: 'Address to listen on; anything but loopback requires --users or --tokens (or --auth off)',
    default: '127.0.0.1',
    schema: hostSchema,
  }),
  basePath: spec({
    key: 'basePath',
    flag: 'base-path',
    env: 'PINTRACE_UI_BASE_PATH',
    description: "Path the Zipkin UI is served under, as zipkin's ZIPKIN_UI_BASEPATH",
    default: '/zipkin',
    schema: basePathSchema,
  }),
  indexPrefix: commonOptions.indexPrefix,
  dateSeparator: spec({
    key: 'dateSeparator',
    flag: 'date-separator',
    env: 'PINTRACE_ES_DATE_SEPARATOR',
    description: "Date separator of daily indices, as ES_DATE_SEPARATOR ('' or one character)",
    default: '-',
    schema: z.string().max(1, 'one character or empty'),
  }),
  queryLookback: spec({
    key: 'queryLookback',
    flag: 'query-lookback',
    env: 'PINTRACE_UI_QUERY_LOOKBACK',
    description: 'Default lookback and name-list window in ms, as QUERY_LOOKBACK',
    default: '86400000',
    schema: positiveIntSchema,
  }),
  maxLookback: spec({
    key: 'maxLookback',
    flag: 'max-lookback',
    env: 'PINTRACE_UI_MAX_LOOKBACK',
    description: 'Longest lookback a query may ask for in ms; longer ones are shortened to it',
    default: String(30 * 86_400_000),
    schema: positiveIntSchema,
  }),
  queryTimeoutMs: spec({
    key: 'queryTimeoutMs',
    flag: 'query-timeout-ms',
    env: 'PINTRACE_UI_QUERY_TIMEOUT_MS',
    description: 'Deadline of one API query in ms (504 after it), as QUERY_TIMEOUT',
    default: '11000',
    schema: positiveIntSchema,
  }),
  maxSpansPerTrace: spec({
    key: 'maxSpansPerTrace',
    flag: 'max-spans-per-trace',
    env: 'PINTRACE_UI_MAX_SPANS_PER_TRACE',
    description: 'Most spans returned per trace; a cut trace is marked with the tag and annotation "pintrace.truncated"',
    default: '5000',
    schema: positiveIntSchema,
  }),
  autocompleteKeys: spec({
    key: 'autocompleteKeys',
    flag: 'autocomplete-keys',
    env: 'PINTRACE_AUTOCOMPLETE_KEYS',
    description: 'Tag keys offered for autocompletion, comma-separated, as AUTOCOMPLETE_KEYS',
    default: '',
    schema: list,
  }),
  strictTraceId: spec({
    key: 'strictTraceId',
    flag: 'strict-trace-id',
    env: 'PINTRACE_STRICT_TRACE_ID',
    description: 'Match 128-bit trace ids exactly, as STRICT_TRACE_ID',
    default: 'true',
    schema: booleanSchema,
  }),
  searchEnabled: spec({
    key: 'searchEnabled',
    flag: 'search-enabled',
    env: 'PINTRACE_SEARCH_ENABLED',
    description: 'Allow searches (off: only trace-by-id), as SEARCH_ENABLED',
    default: 'true',
    schema: booleanSchema,
  }),
  auth: spec({
    key: 'auth',
    flag: 'auth',
    env: 'PINTRACE_UI_AUTH',
    description: 'auto: required when users or tokens are set; off: never (needed to serve a public address without them)',
    default: 'auto',
    schema: z.enum(['auto', 'off']),
  }),
  users: spec({
    key: 'users',
    flag: 'users',
    env: 'PINTRACE_UI_USERS',
    description: 'Basic-auth users, comma-separated name:password',
    default: '',
    secret: true,
    schema: usersSchema,
  }),
  tokens: spec({
    key: 'tokens',
    flag: 'tokens',
    env: 'PINTRACE_UI_TOKENS',
    description: 'Bearer tokens, comma-separated',
    default: '',
    secret: true,
    schema: list,
  }),
  lensJar: spec({
    key: 'lensJar',
    flag: 'lens-jar',
    env: 'PINTRACE_UI_LENS_JAR',
    description: "zipkin-server exec jar to take the Zipkin UI from (default: the devstack's, then ~/.m2)",
    schema: optionalPath,
  }),
  lensDir: spec({
    key: 'lensDir',
    flag: 'lens-dir',
    env: 'PINTRACE_UI_LENS_DIR',
    description: 'Directory the Zipkin UI files are extracted into',
    default: './var/lens',
    schema: z.string().trim().min(1),
  }),
  uiEnvironment: spec({
    key: 'uiEnvironment',
    flag: 'ui-environment',
    env: 'ZIPKIN_UI_ENVIRONMENT',
    description: 'Environment name shown by the UI (config.json)',
    default: '',
    schema: z.string(),
  }),
  uiQueryLimit: spec({
    key: 'uiQueryLimit',
    flag: 'ui-query-limit',
    env: 'ZIPKIN_UI_QUERY_LIMIT',
    description: 'Default trace limit of the UI (config.json)',
    default: '10',
    schema: positiveIntSchema,
  }),
  uiDefaultLookback: spec({
    key: 'uiDefaultLookback',
    flag: 'ui-default-lookback',
    env: 'ZIPKIN_UI_DEFAULT_LOOKBACK',
    description: 'Default lookback of the UI in ms (config.json)',
    default: '900000',
    schema: positiveIntSchema,
  }),
};

export type UiConfig = ConfigOf<typeof uiOptions>;
