import { describe, expect, it } from 'vitest';
import { autoRateKey, checkAdaptiveConfig, computeAdaptiveRates, forgetComputedRates, type AdaptiveConfig, type EndpointWindow } from '@pintrace/sampler';

const config: AdaptiveConfig = { targetTracesPerSecond: 10, minRate: 0.1, maxRate: 100, hysteresis: 0.2 };

/** `seconds` one-second windows of an endpoint with `perSecond` true requests kept at `rate` percent. */
function traffic(serviceName: string, endpoint: string, perSecond: number, rate: number, seconds = 10): EndpointWindow[] {
  return Array.from({ length: seconds }, () => ({ serviceName, endpoint, roots: (perSecond * rate) / 100, calls: perSecond }));
}

const run = (windows: EndpointWindow[], decider: Record<string, number> = {}, c: AdaptiveConfig = config) =>
  computeAdaptiveRates({ windows, seconds: 10, decider: new Map(Object.entries(decider)), config: c });

describe('computeAdaptiveRates', () => {
  it('sets each endpoint to target / traffic, whatever rate admitted the stored roots', () => {
    const out = run([...traffic('shop', '/hot', 1000, 5), ...traffic('shop', '/warm', 100, 100)]);
    expect(out.set.get('pintrace.sample_rate_auto.shop./hot')).toBe(1);
    expect(out.set.get('pintrace.sample_rate_auto.shop./warm')).toBe(10);
    // the service's own value (endpoints not seen yet) is the most generous endpoint's
    expect(out.set.get('pintrace.sample_rate_auto.shop')).toBe(10);
    const hot = out.decisions.find((d) => d.endpoint === '/hot')!;
    expect(hot).toMatchObject({ reason: 'new', observed: 50, traffic: 1000, proposed: 1 });
  });

  it('a 10× step in traffic cuts the rate 10×: current × target / observed', () => {
    const before = run(traffic('shop', '/hot', 100, 100));
    expect(before.set.get(autoRateKey('shop', '/hot'))).toBe(10);
    const after = run(traffic('shop', '/hot', 1000, 10), { [autoRateKey('shop', '/hot')]: 10 });
    expect(after.set.get(autoRateKey('shop', '/hot'))).toBe(1);
    expect(after.decisions[0]).toMatchObject({ reason: 'changed', current: 10, observed: 100 });
  });

  it('fast down, slow up: a surge in the newest windows is answered at once, a fall only as the lookback forgets', () => {
    const key = autoRateKey('shop', '/hot');
    /** Windows 0..9 (1 s each): `quiet` windows of `a` per second at `rateA` %, then `b` per second at `rateB` %. */
    const series = (quiet: number, a: number, rateA: number, b: number, rateB: number): EndpointWindow[] =>
      Array.from({ length: 10 }, (_, i) => {
        const [perSecond, rate] = i < quiet ? [a, rateA] : [b, rateB];
        return { timestamp: i * 1000, serviceName: 'shop', endpoint: '/hot', roots: (perSecond * rate) / 100, calls: perSecond };
      });
    const input = (windows: EndpointWindow[], current: number) => ({ windows, seconds: 10, windowMs: 1000, decider: new Map([[key, current]]), config });
    // the two newest windows at 1000/s (still kept at 10 %) after eight at 100/s: answered at once
    expect(computeAdaptiveRates(input(series(8, 100, 10, 1000, 10), 10)).set.get(key)).toBe(1);
    // without timestamps it would answer the average (280/s)
    expect(computeAdaptiveRates({ ...input(series(8, 100, 10, 1000, 10), 10), windowMs: undefined }).set.get(key)).toBe(3.571);
    // a step in mid-window: that window (550/s, half of each) is not the new traffic; the two
    // after it are (averaged with it, 850/s would be answered with 1.176 %)
    const midWindow = series(7, 100, 10, 1000, 10).map((w, i) => (i === 7 ? { ...w, roots: 55, calls: 550 } : w));
    expect(computeAdaptiveRates(input(midWindow, 10)).set.get(key)).toBe(1);
    // one window alone that reads high is no surge (a double count after a rebalance, say): the average
    expect(computeAdaptiveRates(input(series(9, 100, 10, 1000, 10), 10)).set.get(key)).toBe(5.263);
    // four windows into the surge (already at 1 %): the newest run is still what counts, not the
    // average (460/s), which would raise the rate again before the lookback forgot the quiet windows
    expect(computeAdaptiveRates(input(series(6, 100, 10, 1000, 1), 1)).set.has(key)).toBe(false);
    // a fall: the newest windows quiet, the older ones busy; the average rules (slow up)
    expect(computeAdaptiveRates(input(series(9, 1000, 1, 100, 1), 1)).set.has(key)).toBe(false);
    // too few stored roots in the newest windows is noise, not a surge (300/s at 1 %: 3 roots)
    expect(computeAdaptiveRates(input(series(9, 100, 10, 300, 1), 10)).set.has(key)).toBe(false);
  });

  it('counts only windows that hold anything as time: a silent pipeline is not an idle endpoint', () => {
    const key = autoRateKey('shop', '/hot');
    // five windows with traffic out of a ten-second lookback (the pipeline was down for the rest)
    const windows = Array.from({ length: 5 }, (_, i) => ({ timestamp: i * 1000, serviceName: 'shop', endpoint: '/hot', roots: 10, calls: 100 }));
    const out = computeAdaptiveRates({ windows, seconds: 10, windowMs: 1000, decider: new Map([[key, 10]]), config });
    expect(out.decisions[0]).toMatchObject({ traffic: 100, reason: 'within_hysteresis' });
  });

  it('clamps to the floor and the ceiling: a rare endpoint keeps at least its floor, a flood at most its ceiling', () => {
    const c = { ...config, minRate: 2, maxRate: 50 };
    const out = run([...traffic('shop', '/rare', 0.5, 100), ...traffic('shop', '/flood', 100_000, 1)], {}, c);
    expect(out.set.get(autoRateKey('shop', '/rare'))).toBe(50);
    expect(out.set.get(autoRateKey('shop', '/flood'))).toBe(2);
  });

  it('hysteresis: no change within ±20 %, a change beyond it', () => {
    const key = autoRateKey('shop', '/hot');
    expect(run(traffic('shop', '/hot', 115, 10), { [key]: 10 }).set.has(key)).toBe(false); // proposes 8.7
    expect(run(traffic('shop', '/hot', 85, 10), { [key]: 10 }).set.has(key)).toBe(false); // proposes 11.76
    expect(run(traffic('shop', '/hot', 130, 10), { [key]: 10 }).set.get(key)).toBe(7.692);
    expect(run(traffic('shop', '/hot', 115, 10), { [key]: 10 }).decisions[0]!.reason).toBe('within_hysteresis');
  });

  it('leaves hand-set endpoints and services alone', () => {
    const windows = [...traffic('shop', '/hot', 1000, 5), ...traffic('shop', '/warm', 100, 100), ...traffic('cart', '/x', 1000, 5)];
    const endpointByHand = run(windows, { 'pintrace.sample_rate.shop./hot': 50 });
    expect(endpointByHand.set.has(autoRateKey('shop', '/hot'))).toBe(false);
    expect(endpointByHand.set.get(autoRateKey('shop', '/warm'))).toBe(10);
    expect(endpointByHand.decisions.find((d) => d.endpoint === '/hot')!.reason).toBe('hand_set');
    const serviceByHand = run(windows, { 'pintrace.sample_rate.shop': 3 });
    expect([...serviceByHand.set.keys()].filter((k) => k.includes('.shop'))).toEqual([]);
    expect(serviceByHand.set.get(autoRateKey('cart', '/x'))).toBe(1);
    // the fleet-wide base rate is what computed values adapt: it does not stop them
    expect(run(windows, { 'pintrace.sample_rate': 0.3 }).set.get(autoRateKey('shop', '/hot'))).toBe(1);
  });

  it('endpoints that cannot be a decider key steer the service value together', () => {
    const out = run([...traffic('shop', '__overflow__', 500, 10), ...traffic('shop', 'get /a b', 500, 10), ...traffic('shop', '/hot', 10, 100)]);
    expect(out.set.get(autoRateKey('shop'))).toBe(1); // 1000/s together
    expect(out.set.get(autoRateKey('shop', '/hot'))).toBe(100);
    expect([...out.set.keys()].some((k) => k.includes(' '))).toBe(false);
  });

  it('ignores endpoints without traffic and the overflow service', () => {
    const out = run([{ serviceName: 'shop', endpoint: '/x', roots: 0, calls: 0 }, ...traffic('__overflow__', '/y', 100, 100)]);
    expect(out.set.size).toBe(0);
  });

  it('refuses configurations that cannot work', () => {
    expect(() => checkAdaptiveConfig({ ...config, targetTracesPerSecond: 0 })).toThrow(/target/);
    expect(() => checkAdaptiveConfig({ ...config, minRate: 0 })).toThrow(/lowest/);
    expect(() => checkAdaptiveConfig({ ...config, maxRate: 0.01 })).toThrow(/highest/);
    expect(() => checkAdaptiveConfig({ ...config, hysteresis: 1 })).toThrow(/hysteresis/);
    expect(() => checkAdaptiveConfig(config)).not.toThrow();
  });
});

describe('forgetComputedRates', () => {
  const hot = autoRateKey('shop', '/hot');
  const gone = autoRateKey('shop', '/users/42');
  const service = autoRateKey('shop');
  const decider = new Map([
    [hot, 1],
    [gone, 100],
    [service, 100],
    ['pintrace.sample_rate', 0.3],
    ['pintrace.sample_rate.shop./old', 5],
  ]);
  /** This round's decisions: what computeAdaptiveRates says of /hot alone. */
  const decisions = run(traffic('shop', '/hot', 1000, 1), { [hot]: 1 }).decisions;

  it('removes a computed value once its endpoint has gone without traffic for forgetAfterMs, and only then', () => {
    let absentMs: ReadonlyMap<string, number> = new Map();
    const forgotten: string[][] = [];
    for (let round = 0; round < 7; round++) {
      const step = forgetComputedRates({ absentMs, decider, decisions, elapsedMs: 10_000, forgetAfterMs: 60_000 });
      absentMs = step.absentMs;
      forgotten.push(step.forget);
    }
    // /hot and the service value were decided every round; /users/42 never: 10 s a round
    expect(forgotten.slice(0, 5)).toEqual([[], [], [], [], []]);
    expect(forgotten[5]).toEqual([gone]);
    expect(absentMs.has(hot) || absentMs.has(service)).toBe(false);
    // hand-set values and the fleet base rate are never the sampler's to remove
    expect(forgotten.flat().some((k) => !k.startsWith('pintrace.sample_rate_auto.'))).toBe(false);
  });

  it('an endpoint that comes back starts its absence again', () => {
    const absent = forgetComputedRates({ absentMs: new Map([[hot, 50_000]]), decider, decisions: [], elapsedMs: 5_000, forgetAfterMs: 60_000 });
    expect(absent.absentMs.get(hot)).toBe(55_000);
    const back = forgetComputedRates({ absentMs: absent.absentMs, decider, decisions, elapsedMs: 5_000, forgetAfterMs: 60_000 });
    expect(back.absentMs.has(hot)).toBe(false);
    expect(back.forget).toEqual([]);
  });

  it('a round with no elapsed time forgets nothing, and a key gone from the decider is dropped', () => {
    const same = forgetComputedRates({ absentMs: new Map([[gone, 59_000]]), decider, decisions, elapsedMs: 0, forgetAfterMs: 60_000 });
    expect(same.forget).toEqual([]);
    expect(same.absentMs.get(gone)).toBe(59_000);
    const removed = forgetComputedRates({
      absentMs: new Map([['pintrace.sample_rate_auto.cart', 30_000]]),
      decider,
      decisions,
      elapsedMs: 1,
      forgetAfterMs: 60_000,
    });
    expect(removed.absentMs.has('pintrace.sample_rate_auto.cart')).toBe(false);
  });
});
