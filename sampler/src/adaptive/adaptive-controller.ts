/**
 * The adaptive sampler's control law, a pure function: stored-root counts of recent windows plus
 * the decider values in force → the computed rates to publish.
 *
 * Per (service, endpoint) over the lookback (the windows' time span, `seconds`):
 *
 *   stored    = Σ roots   stored root spans (traces kept), unscaled
 *   traffic   = Σ calls   the same roots scaled by 1/p: the endpoint's true request count
 *   proposed  = clamp(100 × target / (traffic / seconds), floor, ceiling)          percent
 *
 * which is `current × target / observed` with the rate that admitted each trace (the recorded
 * `th`), so it holds when the rate changed inside the lookback. Fast down, slow up: when the
 * newest windows (two at least) show more than twice the traffic of the older ones (and hold
 * enough stored roots, {@link SURGE_MIN_ROOTS}, not to be noise), only the windows after the one
 * the most likely change fell in are averaged, so a surge is cut within a window or two and the
 * windows before it do not pull the rate back up while the lookback forgets them; a fall raises
 * rates only as the lookback forgets the busier windows. Hysteresis: a computed value is
 * republished only when the proposal differs from it by more than `hysteresis` (a fraction), so
 * window-to-window noise does not move rates; an endpoint without a computed value yet gets one.
 *
 * Values set by hand win: an endpoint or service with a `pintrace.sample_rate.<service>[.<endpoint>]`
 * key is left alone (the tracer's precedence, DeciderRateSource, applies the hand value anyway).
 * Endpoints that cannot be a decider key (the windows' overflow label, names with spaces) are
 * governed by the service's computed value, proposed from their summed traffic as if they were
 * one endpoint; when there is no such traffic the service's value is the highest of its
 * endpoints' (a new endpoint starts generous and gets its own value one tick after it shows up).
 */
import { AUTO_SAMPLE_RATE_KEY, SAMPLE_RATE_KEY } from '../decider/decider-rate-source.js';
import { isDeciderValue } from '../decider/decider-values.js';

/** One window's stored roots of one endpoint (summed over collectors and flushes). */
export interface EndpointWindow {
  /** Window start, epoch ms (needed for the surge rule only). */
  timestamp?: number;
  serviceName: string;
  /** The sampling endpoint (model's samplingEndpointOf), or the windows' overflow label. */
  endpoint: string;
  /** Root spans stored, unscaled. */
  roots: number;
  /** The same roots scaled by the inverse of the rate that admitted each: the true count. */
  calls: number;
}

export interface AdaptiveConfig {
  /** Traces per second each endpoint should keep. */
  targetTracesPerSecond: number;
  /** The lowest rate, percent: even the busiest endpoint keeps this. */
  minRate: number;
  /** The highest rate, percent: a rare endpoint gets at most this. */
  maxRate: number;
  /** A computed value changes only when the proposal is off by more than this fraction (0.2 = ±20 %). */
  hysteresis: number;
}

export interface AdaptiveInput {
  /** Every window document of the lookback (several per endpoint are summed). */
  windows: readonly EndpointWindow[];
  /** The time the windows cover, in seconds (windows without traffic count as time too). */
  seconds: number;
  /**
   * The windows' length (ms). With it (and a timestamp on every window) the time covered is the
   * windows that hold anything, and the surge rule is on; `seconds` is then ignored.
   */
  windowMs?: number;
  /** Every decider value in force now (hand-set and computed). */
  decider: ReadonlyMap<string, number>;
  config: AdaptiveConfig;
}

export type AdaptiveReason = 'new' | 'changed' | 'within_hysteresis' | 'hand_set';

export interface AdaptiveDecision {
  serviceName: string;
  /** undefined for the service's own value. */
  endpoint: string | undefined;
  key: string;
  /** The computed value in force before, if any. */
  current: number | undefined;
  proposed: number;
  /** Stored traces per second over the lookback. */
  observed: number;
  /** True requests per second over the lookback. */
  traffic: number;
  reason: AdaptiveReason;
}

export interface AdaptiveOutput {
  /** Decider values to publish (name → percent). */
  set: Map<string, number>;
  decisions: AdaptiveDecision[];
}

/** The newest windows must hold this many stored roots of an endpoint to count as a surge. */
export const SURGE_MIN_ROOTS = 10;

/**
 * A surge is at least this many newest windows: one window alone that reads high (a window whose
 * spans were counted twice after a collector rebalance, say) does not cut a rate.
 */
const SURGE_MIN_WINDOWS = 2;

/** The newest windows' traffic must exceed the older ones' by this factor to count as a surge. */
const SURGE_FACTOR = 2;

/** Endpoints the decider cannot name are summed under this (the collector's overflow label too). */
const REST = '__overflow__';

/** The decider key of a computed rate. */
export function autoRateKey(serviceName: string, endpoint?: string): string {
  return endpoint === undefined ? `${AUTO_SAMPLE_RATE_KEY}.${serviceName}` : `${AUTO_SAMPLE_RATE_KEY}.${serviceName}.${endpoint}`;
}

/** Throws RangeError naming the setting when the configuration cannot work. */
export function checkAdaptiveConfig(c: AdaptiveConfig): void {
  if (!(Number.isFinite(c.targetTracesPerSecond) && c.targetTracesPerSecond > 0)) {
    throw new RangeError(`target traces per second must be > 0, got ${c.targetTracesPerSecond}`);
  }
  if (!(isDeciderValue(c.minRate) && c.minRate > 0)) throw new RangeError(`the lowest rate must be a percent > 0 and <= 100, got ${c.minRate}`);
  if (!isDeciderValue(c.maxRate) || c.maxRate < c.minRate) {
    throw new RangeError(`the highest rate must be a percent from the lowest rate (${c.minRate}) to 100, got ${c.maxRate}`);
  }
  if (!(Number.isFinite(c.hysteresis) && c.hysteresis >= 0 && c.hysteresis < 1)) throw new RangeError(`hysteresis must be from 0 to < 1, got ${c.hysteresis}`);
}

/** Four significant digits: enough to steer, and the decider file stays readable. */
function round(percent: number): number {
  return Number(percent.toPrecision(4));
}

function canBeKey(endpoint: string): boolean {
  return endpoint.length > 0 && endpoint !== REST && endpoint.length <= 400 && !/[\s\u0000-\u001f"]/.test(endpoint);
}

export function computeAdaptiveRates(input: AdaptiveInput): AdaptiveOutput {
  const { config, decider } = input;
  type Sum = { roots: number; calls: number; byWindow: Map<number, { roots: number; calls: number }> };
  const windowMs = input.windowMs;
  const timed = windowMs !== undefined && windowMs > 0 && input.windows.every((w) => w.timestamp !== undefined);
  // the windows that hold anything: a window where the whole pipeline was silent is unknown, not idle
  const starts = timed ? [...new Set(input.windows.map((w) => w.timestamp!))].sort((a, b) => a - b) : [];
  const seconds = timed ? (starts.length * windowMs!) / 1000 : input.seconds > 0 ? input.seconds : 1;
  const services = new Map<string, Map<string, Sum>>();
  for (const w of input.windows) {
    if (!w.serviceName || w.serviceName === REST) continue;
    let endpoints = services.get(w.serviceName);
    if (endpoints === undefined) services.set(w.serviceName, (endpoints = new Map()));
    const endpoint = canBeKey(w.endpoint) ? w.endpoint : REST;
    const sum = endpoints.get(endpoint) ?? { roots: 0, calls: 0, byWindow: new Map() };
    sum.roots += w.roots;
    sum.calls += w.calls;
    if (timed) {
      const one = sum.byWindow.get(w.timestamp!) ?? { roots: 0, calls: 0 };
      one.roots += w.roots;
      one.calls += w.calls;
      sum.byWindow.set(w.timestamp!, one);
    }
    endpoints.set(endpoint, sum);
  }

  const set = new Map<string, number>();
  const decisions: AdaptiveDecision[] = [];
  /**
   * Requests per second that the rate should answer: the lookback's average, or in a surge the
   * average of the newest windows after the one holding the most likely change point (Poisson
   * likelihood of a split into older and newer windows), when the newer windows' traffic is over
   * SURGE_FACTOR × the older ones' and holds SURGE_MIN_ROOTS stored roots.
   */
  const trafficOf = (sum: Sum) => {
    const average = sum.calls / seconds;
    if (!timed || starts.length < 2) return average;
    const xlogx = (c: number, n: number) => (c > 0 ? c * Math.log(c / n) : 0);
    const n = starts.length;
    const whole = xlogx(sum.calls, n);
    let recentCalls = 0;
    let recentRoots = 0;
    let best: { gain: number; traffic: number } | undefined;
    for (let k = 1; k < n; k++) {
      const one = sum.byWindow.get(starts[n - k]!);
      recentCalls += one?.calls ?? 0;
      recentRoots += one?.roots ?? 0;
      const olderCalls = sum.calls - recentCalls;
      const olderMean = olderCalls / (n - k);
      // the run starts at the change: its oldest window is over the factor too, not only its mean
      if (k < SURGE_MIN_WINDOWS || recentRoots < SURGE_MIN_ROOTS || recentCalls / k <= SURGE_FACTOR * olderMean) continue;
      if ((one?.calls ?? 0) <= SURGE_FACTOR * olderMean) continue;
      const gain = xlogx(recentCalls, k) + xlogx(olderCalls, n - k) - whole;
      // the run's oldest window holds the change itself, part old traffic (a step seldom falls on
      // a window's start): counted in, a 10× step in mid-window would be answered as 7.75×
      if (best === undefined || gain > best.gain) best = { gain, traffic: (recentCalls - (one?.calls ?? 0)) / (((k - 1) * windowMs!) / 1000) };
    }
    return best?.traffic ?? average;
  };
  const propose = (traffic: number) => round(Math.min(config.maxRate, Math.max(config.minRate, (100 * config.targetTracesPerSecond) / traffic)));
  const decide = (serviceName: string, endpoint: string | undefined, proposed: number, observed: number, traffic: number, handSet: boolean) => {
    const key = autoRateKey(serviceName, endpoint);
    const current = decider.get(key);
    let reason: AdaptiveReason;
    if (handSet) reason = 'hand_set';
    else if (current === undefined) reason = 'new';
    else if (Math.abs(proposed - current) > config.hysteresis * current) reason = 'changed';
    else reason = 'within_hysteresis';
    if (reason === 'new' || reason === 'changed') set.set(key, proposed);
    decisions.push({ serviceName, endpoint, key, current, proposed, observed, traffic, reason });
  };

  for (const [serviceName, endpoints] of services) {
    const serviceHandSet = decider.has(`${SAMPLE_RATE_KEY}.${serviceName}`);
    let highest: number | undefined;
    let rest: Sum | undefined;
    for (const [endpoint, sum] of endpoints) {
      if (endpoint === REST) {
        rest = sum;
        continue;
      }
      if (!(sum.calls > 0)) continue;
      const traffic = trafficOf(sum);
      const proposed = propose(traffic);
      highest = Math.max(highest ?? 0, proposed);
      const handSet = serviceHandSet || decider.has(`${SAMPLE_RATE_KEY}.${serviceName}.${endpoint}`);
      decide(serviceName, endpoint, proposed, sum.roots / seconds, traffic, handSet);
    }
    if (rest !== undefined && rest.calls > 0) {
      const traffic = trafficOf(rest);
      decide(serviceName, undefined, propose(traffic), rest.roots / seconds, traffic, serviceHandSet);
    } else if (highest !== undefined) {
      decide(serviceName, undefined, highest, 0, 0, serviceHandSet);
    }
  }
  return { set, decisions };
}

/**
 * How long each computed value has gone without traffic, and which to remove. Endpoints come and
 * go (a route is retired, a path carried an id), and a computed value nobody needs would stay in
 * the compacted topic and every host's decider file for ever; its endpoint, should it come back,
 * starts at its service's value again and gets its own a round later. Hand-set values are never
 * touched.
 */
export interface ComputedRateAbsence {
  /** Computed key → ms of computing rounds it has gone without a decision. */
  absentMs: ReadonlyMap<string, number>;
  /** Keys absent for `forgetAfterMs` or longer: to publish as tombstones. */
  forget: string[];
}

/**
 * One computing round's step of {@link ComputedRateAbsence}. `elapsedMs` is the time since the
 * previous computing round; the caller counts only rounds that read windows, so a silent pipeline
 * (Kafka down, collectors stopped: nothing is known) forgets nothing.
 */
export function forgetComputedRates(input: {
  absentMs: ReadonlyMap<string, number>;
  /** Every decider value in force now (only computed keys are considered). */
  decider: ReadonlyMap<string, number>;
  /** This round's decisions: their keys have traffic. */
  decisions: readonly AdaptiveDecision[];
  elapsedMs: number;
  forgetAfterMs: number;
}): ComputedRateAbsence {
  const seen = new Set(input.decisions.map((d) => d.key));
  const absentMs = new Map<string, number>();
  const forget: string[] = [];
  const prefix = `${AUTO_SAMPLE_RATE_KEY}.`;
  for (const key of input.decider.keys()) {
    if (!key.startsWith(prefix) || seen.has(key)) continue;
    const absent = (input.absentMs.get(key) ?? 0) + Math.max(0, input.elapsedMs);
    if (absent >= input.forgetAfterMs) forget.push(key);
    else absentMs.set(key, absent);
  }
  return { absentMs, forget };
}
