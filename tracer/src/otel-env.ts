import type { Attributes } from '@opentelemetry/api';
import { isDevMachine } from '@pintrace/sampler';
import { TracingConfigError } from './errors.js';
import type { B3InjectEncoding } from './propagation/b3-propagator.js';
import type { TracingOptions } from './start-tracing.js';

/**
 * The OpenTelemetry SDK environment variables (specification: "Environment Variable
 * Specification", "Resource SDK", "Propagators Distribution") mapped onto startTracing's
 * options, plus our own `PINTRACE_*` ones. A pure function of the variables it is given, so the
 * mapping is tested without a process; only the `register` entry point hands it `process.env`.
 *
 *   OTEL_SDK_DISABLED         `true` (any case) → no tracing at all; `false` or empty → on
 *   OTEL_SERVICE_NAME         the service name; wins over `service.name` in OTEL_RESOURCE_ATTRIBUTES
 *   OTEL_RESOURCE_ATTRIBUTES  `key=value,key=value`, percent-encoded (W3C Baggage without
 *                             properties) → tags on every span, `service.name` included (as the
 *                             OTel Zipkin exporter writes a resource); `service.name` also names
 *                             the service when OTEL_SERVICE_NAME is unset
 *   OTEL_TRACES_SAMPLER       always_on | always_off | traceidratio | parentbased_always_on (the
 *                             default) | parentbased_always_off | parentbased_traceidratio
 *   OTEL_TRACES_SAMPLER_ARG   the ratio of the *traceidratio samplers, 0..1 (default 1)
 *   OTEL_PROPAGATORS          comma list of tracecontext, b3 (single header), b3multi, or none;
 *                             the listed formats are read and written, the others neither
 *   PINTRACE_SPANS_DIR        the span directory (required)
 *   PINTRACE_DECIDER_FILE     a decider file; its rate rules over the sampler's ratio
 *   PINTRACE_DEV              `1`/`true`: a dev machine, sampling 100 %
 *
 * Stricter than the OTel SDK, which warns and goes on with defaults: a value this cannot use
 * throws a {@link TracingConfigError} naming the variable, so a typo stops the start instead of
 * silently tracing something else.
 */
export function tracingOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): EnvTracingConfig {
  if (parseBoolean(env, 'OTEL_SDK_DISABLED')) return { disabled: true, options: undefined, warnings: [] };
  const warnings: string[] = [];
  const resource = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  const serviceName = serviceNameOf(env, resource);
  const spansDir = env.PINTRACE_SPANS_DIR?.trim();
  if (!spansDir) {
    throw new TracingConfigError('PINTRACE_SPANS_DIR: set it to the directory the logger agent tails (span files are written there)');
  }
  const sampler = parseSampler(env);
  const propagation = parsePropagators(env.OTEL_PROPAGATORS, warnings);
  const options: TracingOptions = {
    serviceName,
    spansDir,
    sampleRate: sampler.percent,
    parentBased: sampler.parentBased,
    dev: isDevMachine(env as NodeJS.ProcessEnv),
    ...propagation,
  };
  // the resource as the OTel SDK builds it: OTEL_SERVICE_NAME replaces service.name
  if (Object.keys(resource).length > 0) options.resourceAttributes = { ...resource, 'service.name': serviceName };
  const deciderFile = env.PINTRACE_DECIDER_FILE?.trim();
  if (deciderFile) options.deciderFile = deciderFile;
  return { disabled: false, options, warnings };
}

/** What the environment asks for. */
export interface EnvTracingConfig {
  /** OTEL_SDK_DISABLED=true: start nothing. */
  disabled: boolean;
  /** The options for startTracing; undefined when disabled. */
  options: TracingOptions | undefined;
  /** Settings understood but not acted on (e.g. `baggage` in OTEL_PROPAGATORS), to be logged. */
  warnings: string[];
}

const SERVICE_NAME = /^[A-Za-z0-9._-]+$/;

function serviceNameOf(env: Readonly<Record<string, string | undefined>>, resource: Attributes): string {
  const fromEnv = env.OTEL_SERVICE_NAME?.trim();
  const fromResource = resource['service.name'];
  const name = fromEnv || (typeof fromResource === 'string' ? fromResource : '');
  const variable = fromEnv ? 'OTEL_SERVICE_NAME' : 'service.name in OTEL_RESOURCE_ATTRIBUTES';
  if (!name) throw new TracingConfigError('OTEL_SERVICE_NAME: set it to the name this service has in Zipkin (e.g. OTEL_SERVICE_NAME=checkout)');
  if (!SERVICE_NAME.test(name)) {
    // the name is also the span file's name, which the agent must find and a shell must not trip on
    throw new TracingConfigError(`${variable}: use letters, digits, '.', '_' and '-' only (it names the span file), got ${JSON.stringify(name)}`);
  }
  return name;
}

/** `true`/`false` in any case; unset or empty is false. */
function parseBoolean(env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new TracingConfigError(`${name}: set it to true or false, got ${JSON.stringify(env[name])}`);
}

/**
 * `key1=value1,key2=value2`: pairs separated by commas, key and value by the first `=`, spaces
 * around either trimmed, both percent-decoded. Values stay strings, as the specification says.
 */
export function parseResourceAttributes(text: string | undefined): Attributes {
  const out: Attributes = {};
  if (text === undefined || text.trim() === '') return out;
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const key = eq > 0 ? decode(pair.slice(0, eq).trim()) : '';
    if (!key || key === '__proto__') {
      throw new TracingConfigError(`OTEL_RESOURCE_ATTRIBUTES: write key=value pairs separated by commas; ${JSON.stringify(pair.trim())} has no key`);
    }
    out[key] = decode(pair.slice(eq + 1).trim());
  }
  return out;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TracingConfigError(`OTEL_RESOURCE_ATTRIBUTES: ${JSON.stringify(text)} is not valid percent-encoding (write a % as %25)`);
  }
}

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

/** The sampler as our two knobs: a percent for roots (OTel's ratio × 100) and whether children follow their parent. */
export function parseSampler(env: Readonly<Record<string, string | undefined>>): { percent: number; parentBased: boolean } {
  const name = (env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on').toLowerCase();
  if (!(SAMPLERS as readonly string[]).includes(name)) {
    throw new TracingConfigError(`OTEL_TRACES_SAMPLER: use one of ${SAMPLERS.join(', ')}; got ${JSON.stringify(env.OTEL_TRACES_SAMPLER)}`);
  }
  const parentBased = name.startsWith('parentbased_');
  const kind = parentBased ? name.slice('parentbased_'.length) : name;
  if (kind === 'always_on') return { percent: 100, parentBased };
  if (kind === 'always_off') return { percent: 0, parentBased };
  return { percent: parseRatio(env.OTEL_TRACES_SAMPLER_ARG) * 100, parentBased };
}

function parseRatio(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return 1;
  const ratio = Number(text.trim());
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new TracingConfigError(`OTEL_TRACES_SAMPLER_ARG: a ratio from 0 to 1 (OTel's scale: 0.003 samples 0.3 % of traces), got ${JSON.stringify(text)}`);
  }
  return ratio;
}

const PROPAGATORS = ['tracecontext', 'b3', 'b3multi', 'none'] as const;

type PropagationOptions = Pick<TracingOptions, 'b3Inject' | 'w3cInject' | 'b3Extract' | 'w3cExtract'>;

/** The listed formats are both read and written; unset keeps the tracer's default (B3 multi + W3C). */
export function parsePropagators(text: string | undefined, warnings: string[] = []): PropagationOptions {
  if (text === undefined || text.trim() === '') return {};
  const names = new Set(
    text
      .split(',')
      .map((n) => n.trim().toLowerCase())
      .filter((n) => n !== ''),
  );
  if (names.delete('baggage')) warnings.push('OTEL_PROPAGATORS: baggage is not propagated by @pintrace/tracer; ignored');
  for (const name of names) {
    if (!(PROPAGATORS as readonly string[]).includes(name)) {
      throw new TracingConfigError(`OTEL_PROPAGATORS: use tracecontext, b3, b3multi (comma-separated) or none; ${JSON.stringify(name)} is not supported`);
    }
  }
  if (names.has('none') && names.size > 1) throw new TracingConfigError('OTEL_PROPAGATORS: none cannot be combined with other propagators');
  const single = names.has('b3');
  const multi = names.has('b3multi');
  const b3Inject: B3InjectEncoding | 'none' = single && multi ? 'single-and-multi' : single ? 'single' : multi ? 'multi' : 'none';
  const w3c = names.has('tracecontext');
  return { b3Inject, b3Extract: single || multi, w3cInject: w3c, w3cExtract: w3c };
}
