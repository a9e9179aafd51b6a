import { ROOT_CONTEXT, trace, type Context, type TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3Propagator as OtelB3Propagator } from '@opentelemetry/propagator-b3';
import { describe, expect, it } from 'vitest';
import { B3Propagator, TraceContextPropagator } from '@pintrace/tracer';
import { seededRandom } from '../../../test/support/random.js';

/**
 * Our B3 and W3C parsing against OpenTelemetry's own propagators (B3Propagator,
 * W3CTraceContextPropagator) on a corpus of hand-picked and fuzzed headers (seeded, so a failure
 * reproduces). W3C: the two must agree on every input. B3: they must agree on every input that the
 * B3 grammar allows; OpenTelemetry is more lenient than the B3 spec in a few documented ways
 * (see LENIENT below), and on those inputs we must reject.
 */
type Headers = Record<string, string>;
const getter: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier[key],
  keys: (carrier) => Object.keys(carrier),
};

function view(context: Context): string {
  const sc = trace.getSpanContext(context);
  if (!sc) return 'none';
  return `${sc.traceId}/${sc.spanId}/sampled=${sc.traceFlags & 1}/state=${sc.traceState?.serialize() ?? ''}`;
}

const ALPHABET = '0123456789abcdefABCDEF-xz ff0\t';
function mutate(value: string, random: () => number): string {
  const i = Math.floor(random() * (value.length + 1));
  const c = ALPHABET[Math.floor(random() * ALPHABET.length)];
  switch (Math.floor(random() * 7)) {
    case 0:
      return value.slice(0, i) + c + value.slice(i + 1); // replace
    case 1:
      return value.slice(0, i) + value.slice(i + 1); // delete
    case 2:
      return value.slice(0, i) + c + value.slice(i); // insert
    case 3:
      return value.slice(0, i); // truncate
    case 4:
      return value.toUpperCase();
    case 5:
      return `${value}-${c}${c}`; // extra field
    default:
      return value.replace(/[1-9a-f]/g, '0'); // zero ids
  }
}

const T128 = '80f198ee56343ba864fe8b2a57d3eff7';
const T64 = '64fe8b2a57d3eff7';
const S = 'e457b5a2e4d86bd1';
const P = '05e3ac9a4f6e3b90';

describe('W3C traceparent/tracestate: same result as @opentelemetry/core W3CTraceContextPropagator', () => {
  const ours = new TraceContextPropagator();
  const otel = new W3CTraceContextPropagator();
  const valid = [
    `00-${T128}-${S}-01`,
    `00-${T128}-${S}-00`,
    `00-${T128}-${S}-03`,
    `00-0000000000000000${T64}-${S}-01`,
    `01-${T128}-${S}-01-future-stuff`,
    ` 00-${T128}-${S}-01`,
    `00-${T128}-${S}-01 `,
  ];
  const malformed = [
    '',
    'garbage',
    `ff-${T128}-${S}-01`,
    `00-${T128}-${S}-01-extra`,
    `00-${'0'.repeat(32)}-${S}-01`,
    `00-${T128}-${'0'.repeat(16)}-01`,
    `00-${T128.toUpperCase()}-${S}-01`,
    `00-${T64}-${S}-01`,
    `00-${T128}-${S}-1`,
    `00_${T128}_${S}_01`,
    `  00-${T128}-${S}-01`,
    `01-${T128}-${S}-01x`,
  ];
  const states = ['', 'rojo=00f067aa0ba902b7', 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7', 'bad key=1', 'a=1,a=2'];

  it('agrees on the hand-picked corpus, tracestate included', () => {
    for (const value of [...valid, ...malformed]) {
      for (const state of states) {
        const carrier: Headers = { traceparent: value };
        if (state) carrier.tracestate = state;
        expect(view(ours.extract(ROOT_CONTEXT, carrier, getter)), JSON.stringify(carrier)).toBe(view(otel.extract(ROOT_CONTEXT, carrier, getter)));
      }
    }
    expect(view(ours.extract(ROOT_CONTEXT, { traceparent: valid[0] }, getter))).not.toBe('none');
  });

  it('agrees on 20,000 fuzzed headers', () => {
    const random = seededRandom(20251122);
    let accepted = 0;
    for (let n = 0; n < 20_000; n++) {
      let value = valid[Math.floor(random() * valid.length)];
      const rounds = 1 + Math.floor(random() * 3);
      for (let r = 0; r < rounds; r++) value = mutate(value, random);
      const carrier = { traceparent: value };
      const mine = view(ours.extract(ROOT_CONTEXT, carrier, getter));
      expect(mine, JSON.stringify(value)).toBe(view(otel.extract(ROOT_CONTEXT, carrier, getter)));
      if (mine !== 'none') accepted++;
    }
    expect(accepted).toBeGreaterThan(500); // the corpus exercises both outcomes
  });

  it('what we inject, OpenTelemetry extracts to the same context (and back)', () => {
    const carrier: Headers = { traceparent: `00-${T128}-${S}-01`, tracestate: 'rojo=00f067aa0ba902b7' };
    const context = otel.extract(ROOT_CONTEXT, carrier, getter);
    const out: Headers = {};
    ours.inject(context, out, { set: (c, k, v) => ((c as Headers)[k] = v) });
    expect(out).toEqual(carrier);
  });
});

/** Ways @opentelemetry/propagator-b3 accepts input the B3 spec calls malformed; we reject these. */
const B3_SINGLE = /^([0-9a-f]{16}|[0-9a-f]{32})-[0-9a-f]{16}(-[01d](-[0-9a-f]{16})?)?$/;
const LENIENT = {
  single: (value: string) => !B3_SINGLE.test(value.trim()), // OTel's regex is unanchored: junk around a match passes
  multiTraceId: (value: string) => !/^([0-9a-f]{16}|[0-9a-f]{32})$/.test(value), // OTel left-pads any length, any case
  multiSpanId: (value: string) => !/^[0-9a-f]{16}$/.test(value), // OTel accepts upper-case
  parent: (value: string | undefined) => value !== undefined && (!/^[0-9a-f]{16}$/.test(value) || /^0+$/.test(value)), // OTel ignores a bad (or all-zero) parent id
};

describe('B3: agrees with @opentelemetry/propagator-b3 wherever the B3 grammar allows the input', () => {
  const ours = new B3Propagator();
  const otel = new OtelB3Propagator();

  function check(carrier: Headers, specValid: boolean): 'agree' | 'lenient' {
    const mine = view(ours.extract(ROOT_CONTEXT, carrier, getter));
    const theirs = view(otel.extract(ROOT_CONTEXT, carrier, getter));
    if (specValid) {
      expect(mine, JSON.stringify(carrier)).toBe(theirs);
      return 'agree';
    }
    expect(mine, JSON.stringify(carrier)).toBe('none');
    return theirs === 'none' ? 'agree' : 'lenient';
  }

  it('single header: valid forms agree; malformed ones are rejected (OTel accepts some)', () => {
    const random = seededRandom(7);
    const seeds = [`${T128}-${S}-1-${P}`, `${T128}-${S}`, `${T64}-${S}-0`, `${T64}-${S}-d-${P}`, `${T128}-${S}-1`];
    const counts = { agree: 0, lenient: 0 };
    for (let n = 0; n < 20_000; n++) {
      let value = seeds[Math.floor(random() * seeds.length)];
      const rounds = Math.floor(random() * 3);
      for (let r = 0; r < rounds; r++) value = mutate(value, random);
      const fields = value.trim().split('-');
      const specValid = !LENIENT.single(value) && !/^0+$/.test(fields[0]) && !/^0+$/.test(fields[1]) && !(fields[3] !== undefined && /^0+$/.test(fields[3]));
      counts[check({ b3: value }, specValid)]++; // we trim optional whitespace, as HTTP parsers do
    }
    expect(counts.agree).toBeGreaterThan(15_000);
  });

  it('multi headers: valid sets agree, sampled/flags/parent included; malformed sets are rejected', () => {
    const random = seededRandom(11);
    const counts = { agree: 0, lenient: 0 };
    const sampledValues = [undefined, '1', '0', 'true', 'false', 'yes', ''];
    for (let n = 0; n < 20_000; n++) {
      const carrier: Headers = {};
      let traceId = random() < 0.5 ? T128 : T64;
      let spanId = S;
      let parent: string | undefined = random() < 0.5 ? P : undefined;
      if (random() < 0.4) traceId = mutate(traceId, random);
      if (random() < 0.3) spanId = mutate(spanId, random);
      if (parent && random() < 0.2) parent = mutate(parent, random);
      // HTTP parsers strip optional whitespace around field values; we trim it too, OTel does not
      if (traceId !== traceId.trim() || spanId !== spanId.trim() || (parent && parent !== parent.trim())) continue;
      carrier['x-b3-traceid'] = traceId;
      carrier['x-b3-spanid'] = spanId;
      if (parent !== undefined) carrier['x-b3-parentspanid'] = parent;
      const sampled = sampledValues[Math.floor(random() * sampledValues.length)];
      if (sampled !== undefined) carrier['x-b3-sampled'] = sampled;
      const debug = random() < 0.2;
      if (debug) carrier['x-b3-flags'] = '1';
      const badSampled = !debug && sampled !== undefined && !['1', '0', 'true', 'false'].includes(sampled);
      const allZero = /^0+$/.test(traceId) || /^0+$/.test(spanId);
      const specValid = !LENIENT.multiTraceId(traceId) && !LENIENT.multiSpanId(spanId) && !LENIENT.parent(parent) && !badSampled && !allZero;
      counts[check(carrier, specValid)]++;
    }
    expect(counts.agree).toBeGreaterThan(15_000);
  });

  it('a 64-bit trace id stays 16 characters on the way out (no padding on B3 paths)', () => {
    const context = ours.extract(ROOT_CONTEXT, { b3: `${T64}-${S}-1` }, getter);
    const out: Headers = {};
    new B3Propagator({ injectEncoding: 'single-and-multi' }).inject(context, out, { set: (c, k, v) => ((c as Headers)[k] = v) });
    expect(out.b3).toBe(`${T64}-${S}-1`);
    expect(out['x-b3-traceid']).toBe(T64);
  });
});
