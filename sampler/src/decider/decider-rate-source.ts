import { DEV_SAMPLE_RATE, isValidSampleRate, type RateSource } from '../rate-source.js';
import type { DeciderValues } from './decider-values.js';
import type { FileDecider } from './file-decider.js';

/** The decider name prefix of sample rates. */
export const SAMPLE_RATE_KEY = 'pintrace.sample_rate';

/**
 * The prefix of rates computed by the adaptive sampler (`pintrace sampler`):
 * `pintrace.sample_rate_auto.<service>[.<endpoint>]`. Distinct from {@link SAMPLE_RATE_KEY}'s, so
 * a value set by hand and a computed one never overwrite each other in the decider topic or file.
 */
export const AUTO_SAMPLE_RATE_KEY = 'pintrace.sample_rate_auto';

export interface DeciderRateSourceOptions {
  /** The decider to read (usually a {@link FileDecider}). */
  decider: Pick<FileDecider, 'all' | 'onChange'>;
  /** This service's name (case-insensitive), for `pintrace.sample_rate.<service>[.<endpoint>]`. */
  serviceName: string;
  /** Percent used when no key applies. Default 0 (KingPin's default: off until set). */
  defaultRate?: number;
  /** Dev machine: always 100 %, whatever the decider says. Default false. */
  dev?: boolean;
}

/**
 * Sample rates from a decider, with per-service and per-endpoint overrides. The first key that
 * is set wins:
 *
 *   pintrace.sample_rate.<service>.<endpoint>        by hand: one endpoint of one service
 *                                                    (endpoint = the root span's http.path, else
 *                                                    its name; lower-case; model's samplingEndpointOf)
 *   pintrace.sample_rate.<service>                   by hand: every root of one service
 *   pintrace.sample_rate_auto.<service>.<endpoint>   computed by `pintrace sampler`
 *   pintrace.sample_rate_auto.<service>              computed: endpoints without their own value
 *   pintrace.sample_rate                             by hand: every service (the base rate)
 *   defaultRate                                      nothing set
 *
 * So a value set by hand for a service or an endpoint beats every computed one, and the computed
 * ones beat the fleet-wide base rate, which is what they adapt.
 *
 * The rates of this service are resolved once per decider change (not per decision), so
 * `current()` returns a field and `rateFor()` is one Map lookup, and none when the service has
 * no endpoint overrides.
 */
export class DeciderRateSource implements RateSource {
  private readonly serviceKey: string;
  private readonly endpointPrefix: string;
  private readonly autoServiceKey: string;
  private readonly autoEndpointPrefix: string;
  private readonly defaultRate: number;
  private readonly dev: boolean;
  private rate: number;
  private endpoints: ReadonlyMap<string, number> = new Map();
  private readonly unsubscribe: () => void;

  constructor(options: DeciderRateSourceOptions) {
    const service = String(options.serviceName ?? '').toLowerCase();
    if (service.length === 0) throw new TypeError('DeciderRateSource: set `serviceName`');
    const defaultRate = options.defaultRate ?? 0;
    if (!isValidSampleRate(defaultRate)) throw new TypeError(`DeciderRateSource: defaultRate must be 0..100, got ${String(defaultRate)}`);
    this.serviceKey = `${SAMPLE_RATE_KEY}.${service}`;
    this.endpointPrefix = `${this.serviceKey}.`;
    this.autoServiceKey = `${AUTO_SAMPLE_RATE_KEY}.${service}`;
    this.autoEndpointPrefix = `${this.autoServiceKey}.`;
    this.defaultRate = defaultRate;
    this.dev = options.dev ?? false;
    this.rate = defaultRate;
    this.resolve(options.decider.all());
    this.unsubscribe = options.decider.onChange((values) => this.resolve(values));
  }

  current(): number {
    return this.rate;
  }

  rateFor(endpoint: string): number {
    if (this.endpoints.size === 0) return this.rate;
    const rate = this.endpoints.get(endpoint.toLowerCase());
    return rate === undefined ? this.rate : rate;
  }

  /** The endpoint overrides in force for this service (endpoint → percent). */
  endpointRates(): ReadonlyMap<string, number> {
    return this.endpoints;
  }

  /** Stops following the decider. */
  close(): void {
    this.unsubscribe();
  }

  private resolve(values: DeciderValues): void {
    if (this.dev) {
      this.rate = DEV_SAMPLE_RATE;
      return;
    }
    const service = values.get(this.serviceKey);
    const global = values.get(SAMPLE_RATE_KEY);
    const endpoints = new Map<string, number>();
    const hand = new Set<string>();
    for (const [name, value] of values) {
      if (name.startsWith(this.endpointPrefix) && name.length > this.endpointPrefix.length) {
        const endpoint = name.slice(this.endpointPrefix.length);
        endpoints.set(endpoint, value);
        hand.add(endpoint);
      }
    }
    // computed endpoint rates apply only where no hand-set service or endpoint rate does
    if (service === undefined) {
      for (const [name, value] of values) {
        if (name.startsWith(this.autoEndpointPrefix) && name.length > this.autoEndpointPrefix.length) {
          const endpoint = name.slice(this.autoEndpointPrefix.length);
          if (!hand.has(endpoint)) endpoints.set(endpoint, value);
        }
      }
    }
    // one swap of each reference: a decision sees either the old or the new rates
    this.endpoints = endpoints;
    this.rate = service ?? values.get(this.autoServiceKey) ?? global ?? this.defaultRate;
  }
}

/** True when the environment marks a dev machine (`PINTRACE_DEV=1` or `true`): sample 100 %. */
export function isDevMachine(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.PINTRACE_DEV?.toLowerCase();
  return value === '1' || value === 'true';
}
