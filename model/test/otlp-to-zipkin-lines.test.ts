import { describe, expect, it } from 'vitest';
import { encodeSpan, otlpToZipkin, otlpToZipkinLines, type OtlpAnyValue, type OtlpKeyValue, type OtlpSpan, type OtlpTraces } from '../src/index.js';
import { seededRandom as rng } from '../../test/support/random.js';

/**
 * The intake's one-pass path must write exactly the lines of the two-step one (otlpToZipkin, whose
 * mapping is checked against the Collector's translator in otlp-to-zipkin.test.ts, then encodeSpan):
 * compared on random requests that hit every rule of the mapping and of Zipkin's normalisation.
 */
function generator(seed: number) {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const chance = (p: number) => r() < p;
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const id = (n: number) => (chance(0.01) ? '0'.repeat(n) : chance(0.01) ? '' : chance(0.1) && n === 32 ? '0'.repeat(16) + hex(16) : hex(n));
  const text = () =>
    pick([
      'GET /api',
      'Mixed Case',
      'plain',
      '',
      'quote"d',
      'back\\slash',
      'tab\there',
      'line\u2028sep',
      'lone\ud800',
      '😀 emoji',
      'İstanbul',
      'ctl\u0001',
      '<html>&amp;',
    ]);
  const keys = [
    'http.method',
    'service.name',
    'error',
    'peer.service',
    'net.peer.ip',
    'net.peer.port',
    'net.host.ip',
    'net.host.port',
    'span.kind',
    'otel.status_code',
    'otel.library.name',
    'w3c.tracestate',
    'a',
    'B',
    'z.key',
    '__proto__',
    'faas.name',
    'process.executable.name',
    'otlp.link.0',
  ];
  const value = (depth = 0): OtlpAnyValue => {
    switch (int(depth > 1 ? 6 : 8)) {
      case 0:
        return { stringValue: text() };
      case 1:
        return { boolValue: chance(0.5) };
      case 2:
        return { intValue: BigInt(int(100000)) - 500n };
      case 3:
        return { doubleValue: pick([1.5, -0, 0.1, 1e21, Number.NaN, Number.POSITIVE_INFINITY, 3]) };
      case 4:
        return { bytesValue: Uint8Array.from([int(256), int(256), int(256)]) };
      case 5:
        return {};
      case 6:
        return { arrayValue: { values: Array.from({ length: int(3) }, () => value(depth + 1)) } };
      default:
        return { kvlistValue: { values: attributes(int(3), depth + 1) } };
    }
  };
  const endpointValue = (key: string): OtlpAnyValue => {
    if (key.endsWith('.ip')) return { stringValue: pick(['10.0.0.1', '::1', '2001:db8::1', 'not-an-ip', '::ffff:10.1.2.3', '']) };
    if (key.endsWith('.port')) return pick([{ stringValue: '8080' }, { intValue: 443n }, { stringValue: '70000' }, { stringValue: 'x' }]);
    return { stringValue: text() };
  };
  function attributes(n: number, depth = 0): OtlpKeyValue[] {
    return Array.from({ length: n }, () => {
      const key = chance(0.7) ? pick(keys) : `k${int(20)}`;
      return { key, value: key.includes('.ip') || key.includes('.port') || key === 'peer.service' ? endpointValue(key) : value(depth) };
    });
  }
  const time = () => pick([0n, 999_999_999n, 1_581_452_772_000_000_321n, 1_581_452_772_000_000_999n]);
  const span = (): OtlpSpan => {
    const spanId = id(16);
    const start = time();
    return {
      traceId: id(32),
      spanId,
      traceState: chance(0.2) ? 'vendor=x' : '',
      parentSpanId: chance(0.1) ? spanId : chance(0.5) ? id(16) : '',
      name: text(),
      kind: int(7),
      startTimeUnixNano: start,
      endTimeUnixNano: pick([
        0n,
        start,
        start + 1n,
        start + 499n,
        start + 1500n,
        start + 48_000_000n,
        start + 48_000_000n,
        chance(0.1) && start > 0n ? start - 1n : 5n,
      ]),
      attributes: attributes(int(8)),
      events: Array.from({ length: int(4) }, () => ({
        timeUnixNano: pick([time(), 1_581_452_773_000_000_123n]),
        name: pick(['event', 'exception', 'Z']),
        attributes: chance(0.5) ? attributes(int(3)) : [],
        droppedAttributesCount: chance(0.2) ? 2 : 0,
      })),
      links: Array.from({ length: int(3) }, () => ({
        traceId: id(32),
        spanId: id(16),
        traceState: chance(0.3) ? 'a=b' : '',
        attributes: attributes(int(2)),
        droppedAttributesCount: int(2),
      })),
      status: { code: int(4), message: chance(0.5) ? text() : '' },
    };
  };
  return (): OtlpTraces => ({
    resourceSpans: Array.from({ length: 1 + int(3) }, () => ({
      resource: { attributes: chance(0.1) ? [] : attributes(int(14)) },
      scopeSpans: Array.from({ length: int(4) }, () => ({
        scope: { name: chance(0.6) ? pick(['io.opentelemetry.http', 'App']) : '', version: chance(0.5) ? '1.2.3' : '' },
        spans: Array.from({ length: int(6) }, span),
      })),
    })),
  });
}

describe('otlpToZipkinLines', () => {
  it('writes the lines encodeSpan writes for otlpToZipkin, or refuses with the same reason, on 6,000 random requests', () => {
    const next = generator(15);
    let lines = 0;
    let refused = 0;
    for (let n = 0; n < 6_000; n++) {
      const request = next();
      const twoStep = otlpToZipkin(request);
      const onePass = otlpToZipkinLines(request);
      if (!twoStep.ok) {
        refused++;
        expect(onePass).toEqual(twoStep);
        continue;
      }
      const expected = twoStep.spans.map((s) => encodeSpan(s));
      if (!onePass.ok || onePass.lines.length !== expected.length || onePass.lines.some((l, i) => l !== expected[i])) {
        // the first differing request, whole, for the report
        expect({ request, lines: onePass.ok ? onePass.lines : onePass }).toEqual({ request, lines: expected });
      }
      lines += expected.length;
    }
    // the generator must reach both outcomes often, or the comparison proves little
    expect(lines).toBeGreaterThan(10_000);
    expect(refused).toBeGreaterThan(300);
  });

  it('refuses a request with an all-zero trace id as the two-step path does', () => {
    const request: OtlpTraces = {
      resourceSpans: [
        {
          resource: { attributes: [] },
          scopeSpans: [
            {
              scope: { name: '', version: '' },
              spans: [
                {
                  traceId: '0'.repeat(32),
                  spanId: '0102030405060708',
                  traceState: '',
                  parentSpanId: '',
                  name: 'x',
                  kind: 0,
                  startTimeUnixNano: 1n,
                  endTimeUnixNano: 2n,
                  attributes: [],
                  events: [],
                  links: [],
                  status: { code: 0, message: '' },
                },
              ],
            },
          ],
        },
      ],
    };
    expect(otlpToZipkinLines(request)).toEqual({ ok: false, reason: 'invalid_trace_id', message: 'TraceID is invalid' });
  });
});
