import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { encodeSpanLine } from '@pintrace/model';
import { ALWAYS_SAMPLE } from '@pintrace/sampler';
import { silentLogger, startTracing, toZipkinSpan } from '@pintrace/tracer';
import { encodeSpanJsonLine } from '../../src/zipkin/span-json.js';
import type { FinishedSpan } from '../../src/trace/finished-span.js';
import { seededRandom as rng } from '../../../test/support/random.js';

// integers of every digit count, around the encoder's 8-digit halves, and what is not one
const NUMBERS = [
  0,
  7,
  42,
  999,
  1000,
  12345,
  654321,
  1234567,
  99999999,
  100000000,
  100000001,
  1796320187916068,
  2 ** 53 - 1,
  2 ** 53,
  -5,
  -123456789,
  1e21,
  Number.NaN,
];
const DURATIONS = NUMBERS.filter((n) => Number.isSafeInteger(n) && n >= 0);
const STRINGS = ['get', 'GET /Users', 'quote"d', 'back\\slash', 'new\nline', 'tab\t', 'ctl\u0001', 'é ünïcode', 'sep\u2028x', 'lone\ud800', '😀', '', 'error'];

describe('encodeSpanJsonLine', () => {
  it('gives exactly encodeSpanLine(toZipkinSpan(span)) on 5,000 varied spans', () => {
    const random = rng(42);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
    const endpoint = { serviceName: 'svc', ipv4: '10.0.0.1' };
    for (let n = 0; n < 5000; n++) {
      const attributes: Attributes = {};
      // mostly a few tags, sometimes many (the encoder sorts them as they come)
      const count = Math.floor(random() * (random() < 0.2 ? STRINGS.length + 1 : 5));
      for (let i = 0; i < count; i++)
        attributes[pick(STRINGS) || 'k'] = pick<Attributes[string]>([pick(STRINGS), pick(NUMBERS), 1.5, true, ['a', 'b'], [1, null]]);
      if (random() < 0.3) attributes['network.peer.address'] = pick(['127.0.0.1', '::1', '::ffff:10.1.2.3', 'not-an-ip']);
      // 8080 and 8336 share the encoder's recent-peer slot; a string port and NaN too
      if (random() < 0.3) attributes['network.peer.port'] = pick<Attributes[string]>([8080, 8336, '8080', 0, 70000, 'x']);
      if (random() < 0.1) attributes['peer.service'] = pick(STRINGS);
      const span: FinishedSpan = {
        traceId: random() < 0.5 ? `0000000000000000${'a'.repeat(15)}1` : `${'b'.repeat(31)}2`,
        spanId: 'c'.repeat(15) + '3',
        parentSpanId: random() < 0.5 ? 'd'.repeat(15) + '4' : undefined,
        name: pick(STRINGS),
        kind: pick([SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER]),
        startMicros: 1_700_000_000_000_000 + n,
        durationMicros: pick([0, 1, 250, pick(DURATIONS)]),
        attributes,
        events:
          random() < 0.2
            ? [{ name: pick(STRINGS), timestampMicros: 1_700_000_000_000_001, attributes: random() < 0.5 ? { a: pick(STRINGS) } : undefined }]
            : [],
        status: random() < 0.2 ? { code: SpanStatusCode.ERROR, message: random() < 0.5 ? pick(STRINGS) : undefined } : { code: SpanStatusCode.UNSET },
        debug: random() < 0.1,
        shared: random() < 0.1,
        localEndpoint: random() < 0.9 ? endpoint : {},
      };
      expect(encodeSpanJsonLine(span)).toBe(encodeSpanLine(toZipkinSpan(span)));
    }
  });
});

describe('encodeSpanJsonLine on spans that repeat their attribute keys', () => {
  it('gives exactly encodeSpanLine(toZipkinSpan(span)) when key sequences recur with other values', () => {
    const random = rng(7);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
    const KEYS = [
      ...STRINGS.map((k) => k || 'k'),
      'network.peer.address',
      'net.peer.ip',
      'network.peer.port',
      'net.sock.peer.port',
      'peer.service',
      'http.route',
      '10',
      '2',
    ];
    // more sequences than the encoder keeps layouts for, so some are rebuilt while others recur
    const sequences = Array.from({ length: 40 }, () => [...new Set(Array.from({ length: 1 + Math.floor(random() * 7) }, () => pick(KEYS)))]);
    const endpoint = { serviceName: 'svc', ipv4: '10.0.0.1' };
    for (let n = 0; n < 5000; n++) {
      // a few sequences most of the time, as an instrumentation's spans are
      const keys = random() < 0.7 ? sequences[n % 3] : pick(sequences);
      const attributes: Attributes = {};
      for (const key of keys) {
        attributes[key] =
          random() < 0.03
            ? (pick([null, undefined]) as unknown as string)
            : pick<Attributes[string]>([pick(STRINGS), pick(NUMBERS), true, ['a', 'b'], pick(['127.0.0.1', '::1', 'x']), pick([8080, 8336, '8080', 0])]);
      }
      const span: FinishedSpan = {
        traceId: `${'b'.repeat(31)}2`,
        spanId: 'c'.repeat(15) + '3',
        parentSpanId: undefined,
        name: pick(STRINGS),
        kind: pick([SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT]),
        startMicros: 1_700_000_000_000_000 + n,
        durationMicros: pick(DURATIONS),
        attributes,
        events: random() < 0.1 ? [{ name: pick(STRINGS), timestampMicros: 1_700_000_000_000_001 }] : [],
        status: random() < 0.2 ? { code: SpanStatusCode.ERROR, message: random() < 0.5 ? pick(STRINGS) : undefined } : { code: SpanStatusCode.UNSET },
        debug: false,
        shared: false,
        localEndpoint: endpoint,
      };
      expect(encodeSpanJsonLine(span)).toBe(encodeSpanLine(toZipkinSpan(span)));
    }
  });
});

describe('encodeSpanJsonLine on spans that repeat their tail (endpoints and tag values)', () => {
  it('gives exactly encodeSpanLine(toZipkinSpan(span)) when tails recur, change by one value, or hold arrays', () => {
    const random = rng(11);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
    const endpoints = [{ serviceName: 'svc', ipv4: '10.0.0.1' }, { serviceName: 'other' }];
    const shared = ['a', 'b'];
    for (let n = 0; n < 5000; n++) {
      // few choices per field, so a peer's spans often repeat the previous tail, two or three
      // times in a row, and then change in one place
      const attributes: Attributes = {
        'http.method': pick(['GET', 'GET', 'POST']),
        'http.path': pick(['/', '/', '/users', 'quote"d', 'é']),
        'network.peer.address': pick(['127.0.0.1', '127.0.0.1', '::1']),
        'network.peer.port': pick([8080, 8080, 8336]),
        'http.status_code': pick<Attributes[string]>(['200', '200', '500', 200, 0, -0, true, Number.NaN, shared]),
      };
      if (random() < 0.05) shared[0] = pick(['a', 'c']);
      if (random() < 0.1) delete attributes['network.peer.address'];
      const span: FinishedSpan = {
        traceId: `0000000000000000${'a'.repeat(15)}1`,
        spanId: 'c'.repeat(15) + '3',
        parentSpanId: undefined,
        name: 'get',
        kind: SpanKind.SERVER,
        startMicros: 1_700_000_000_000_000 + n,
        durationMicros: pick(DURATIONS),
        attributes,
        events: random() < 0.05 ? [{ name: 'e', timestampMicros: 1_700_000_000_000_001 }] : [],
        status: random() < 0.05 ? { code: SpanStatusCode.ERROR } : { code: SpanStatusCode.UNSET },
        debug: random() < 0.05,
        shared: false,
        localEndpoint: random() < 0.9 ? endpoints[0] : endpoints[1],
      };
      expect(encodeSpanJsonLine(span)).toBe(encodeSpanLine(toZipkinSpan(span)));
    }
  });

  it('writes an array value as it is now, though the same array was written before', () => {
    const list = ['a', 'b'];
    const localEndpoint = { serviceName: 'svc' };
    const span = (): FinishedSpan => ({
      traceId: `0000000000000000${'a'.repeat(15)}1`,
      spanId: 'c'.repeat(15) + '3',
      parentSpanId: undefined,
      name: 'get',
      kind: SpanKind.SERVER,
      startMicros: 1_700_000_000_000_000,
      durationMicros: 5,
      attributes: { 'http.method': 'GET', 'network.peer.port': 9000, list },
      events: [],
      status: { code: SpanStatusCode.UNSET },
      debug: false,
      shared: false,
      localEndpoint,
    });
    for (const value of ['a', 'c', 'd']) {
      list[0] = value;
      for (let i = 0; i < 3; i++) expect(JSON.parse(encodeSpanJsonLine(span())).tags.list).toBe(`${value},b`);
    }
  });
});

describe('encodeSpanJsonLine on tracer-made spans (ids copied from their hex bytes)', () => {
  it.each([false, true])('equals the string path for roots and children, traceId128Bit=%s', (bits128) => {
    const got: FinishedSpan[] = [];
    const tracing = startTracing({
      serviceName: 'hex-ids',
      sink: { accept: (s) => void got.push(s), flush: async () => {}, shutdown: async () => {} },
      sampler: ALWAYS_SAMPLE,
      traceId128Bit: bits128,
      registerGlobal: false,
      logger: silentLogger,
    });
    // enough spans to cross several id pool refills (256 ids each)
    for (let i = 0; i < 700; i++) {
      const root = tracing.tracer.startSpan('root', { kind: SpanKind.SERVER });
      const child = tracing.tracer.startSpan('child', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, root));
      child.setAttribute('n', i);
      child.end();
      root.end();
      expect(root.spanContext().spanId).toBe(root.spanContext().traceId.slice(16));
    }
    expect(got).toHaveLength(1400);
    for (const span of got) {
      expect(span.spanIdHex).toBeDefined();
      const line = encodeSpanJsonLine(span);
      expect(line).toBe(encodeSpanLine(toZipkinSpan(span)));
      expect(JSON.parse(line).traceId).toHaveLength(bits128 ? 32 : 16);
    }
  });
});
