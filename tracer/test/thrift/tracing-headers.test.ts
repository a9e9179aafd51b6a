import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { readRequestHeader, writeRequestHeader, type TTwitterTrace } from '../../src/thrift/tracing-headers.js';
import { encodeWith, type ThriftModule, type ThriftProtocolClass } from '../../src/thrift/thrift-module.js';

const thrift = createRequire(import.meta.url)('thrift') as ThriftModule & { TCompactProtocol: ThriftProtocolClass };

function roundTrip(trace: TTwitterTrace, Protocol: ThriftProtocolClass = thrift.TBinaryProtocol): TTwitterTrace | undefined {
  const bytes = encodeWith(thrift, Protocol, (out) => writeRequestHeader(out, thrift, trace));
  return readRequestHeader(new Protocol(new thrift.TFramedTransport(bytes)));
}

/** A RequestHeader in the binary protocol, built field by field. */
function header(fields: Array<[type: number, id: number, value: Buffer]>): Buffer {
  const parts = fields.map(([type, id, value]) => Buffer.concat([Buffer.from([type, 0, id]), value]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}
const i64 = (hex: string) => Buffer.from(hex, 'hex');
const read = (bytes: Buffer) => readRequestHeader(new thrift.TBinaryProtocol(new thrift.TFramedTransport(bytes)));

describe('RequestHeader codec', () => {
  it('round-trips 64- and 128-bit ids, parent, sampling and client id in binary and compact protocols', () => {
    const traces: TTwitterTrace[] = [
      { traceId: '463ac35c9f6413ad', spanId: 'a2fb4a1d1a96d312', parentSpanId: '0020000000000001', sampling: 'accept' },
      { traceId: '80f198ee56343ba864fe8b2a57d3eff7', spanId: 'ffffffffffffffff', sampling: 'debug', clientId: 'checkout' },
      { traceId: '8000000000000000', spanId: '0000000000000001', sampling: 'deny' },
      { traceId: '0000000000000001', spanId: '0000000000000002' },
    ];
    for (const Protocol of [thrift.TBinaryProtocol, thrift.TCompactProtocol]) {
      for (const trace of traces) expect(roundTrip(trace, Protocol)).toEqual(trace);
    }
  });

  it('maps Finagle flags: debug wins, SamplingKnown|Sampled without the sampled field', () => {
    const ids: Array<[number, number, Buffer]> = [
      [10, 1, i64('0000000000000abc')],
      [10, 2, i64('0000000000000def')],
    ];
    expect(read(header([...ids, [10, 7, i64('0000000000000001')]]))?.sampling).toBe('debug');
    expect(read(header([...ids, [10, 7, i64('0000000000000006')]]))?.sampling).toBe('accept');
    expect(read(header([...ids, [10, 7, i64('0000000000000002')]]))?.sampling).toBe('deny');
    expect(read(header([...ids, [2, 5, Buffer.from([0])], [10, 7, i64('0000000000000000')]]))?.sampling).toBe('deny');
    expect(read(header(ids))?.sampling).toBeUndefined();
  });

  it('skips fields it does not use (dest, delegations, unknown) and rejects zero ids', () => {
    const str = (s: string) => Buffer.concat([Buffer.from([0, 0, 0, s.length]), Buffer.from(s)]);
    const bytes = header([
      [10, 1, i64('0000000000000abc')],
      [10, 2, i64('0000000000000def')],
      [11, 9, str('dest')],
      [15, 10, Buffer.from([12, 0, 0, 0, 0])],
      [8, 42, Buffer.from([0, 0, 0, 7])],
    ]);
    expect(read(bytes)).toEqual({ traceId: '0000000000000abc', spanId: '0000000000000def' });
    expect(
      read(
        header([
          [10, 1, i64('0000000000000000')],
          [10, 2, i64('0000000000000def')],
        ]),
      ),
    ).toBeUndefined();
    expect(read(header([[10, 1, i64('0000000000000abc')]]))).toBeUndefined();
  });
});
