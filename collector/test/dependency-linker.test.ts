import { describe, expect, it } from 'vitest';
import type { Span } from '@pintrace/model';
import { linkTrace } from '../src/dependency-linker.js';

const T = '000000000000000a';
const fe = { serviceName: 'frontend', ipv4: '127.0.0.1' };
const be = { serviceName: 'backend', ipv4: '192.168.99.101', port: 9000 };
const db = { serviceName: 'db', ipv6: '2001:db8::c001', port: 3036 };
const kafka = { serviceName: 'kafka' };
const links = (spans: Span[]) => [...linkTrace(spans).values()].sort((a, b) => `${a.parent}|${a.child}`.localeCompare(`${b.parent}|${b.child}`));

/** zipkin's TestObjects.newTrace shape: server → client → shared server → db client with error. */
const trace: Span[] = [
  { traceId: T, id: '1', kind: 'SERVER', localEndpoint: fe, timestamp: 1, duration: 10 },
  { traceId: T, parentId: '1', id: '2', kind: 'CLIENT', localEndpoint: fe, remoteEndpoint: be, timestamp: 2, duration: 5 },
  { traceId: T, parentId: '1', id: '2', kind: 'SERVER', shared: true, localEndpoint: be, remoteEndpoint: fe, timestamp: 3, duration: 3 },
  { traceId: T, parentId: '2', id: '3', kind: 'CLIENT', localEndpoint: be, remoteEndpoint: db, tags: { error: 'x' }, timestamp: 4, duration: 1 },
];

describe('dependency linker (zipkin DependencyLinker rules)', () => {
  it('links client/server pairs once and counts the error tag', () => {
    expect(links(trace)).toEqual([
      { parent: 'backend', child: 'db', callCount: 1, errorCount: 1 },
      { parent: 'frontend', child: 'backend', callCount: 1, errorCount: 0 },
    ]);
  });

  it('does not count an annotation named "error" as an error', () => {
    const spans = trace.map((s) => (s.id === '3' ? { ...s, tags: undefined, annotations: [{ timestamp: 4, value: 'error' }] } : s));
    expect(links(spans).find((l) => l.child === 'db')).toEqual({ parent: 'backend', child: 'db', callCount: 1, errorCount: 0 });
  });

  it("marks a server span sharing its client's id as shared when the flag is missing", () => {
    const spans = trace.map((s) => (s.shared ? { ...s, shared: undefined } : s));
    expect(links(spans)).toEqual(links(trace));
  });

  it('links messaging through the broker', () => {
    const spans: Span[] = [
      { traceId: T, id: '1', kind: 'PRODUCER', localEndpoint: fe, remoteEndpoint: kafka, timestamp: 1 },
      { traceId: T, parentId: '1', id: '2', kind: 'CONSUMER', localEndpoint: be, remoteEndpoint: kafka, timestamp: 2 },
    ];
    expect(links(spans)).toEqual([
      { parent: 'frontend', child: 'kafka', callCount: 1, errorCount: 0 },
      { parent: 'kafka', child: 'backend', callCount: 1, errorCount: 0 },
    ]);
  });

  it('skips a root server span with no known caller, and links an instrumented client to an uninstrumented server', () => {
    const spans: Span[] = [
      { traceId: T, id: '1', kind: 'SERVER', localEndpoint: fe },
      { traceId: T, parentId: '1', id: '2', kind: 'CLIENT', localEndpoint: fe, remoteEndpoint: db },
    ];
    expect(links(spans)).toEqual([{ parent: 'frontend', child: 'db', callCount: 1, errorCount: 0 }]);
  });

  it('uses the nearest remote ancestor across local spans, and backfills a missing client link', () => {
    const spans: Span[] = [
      { traceId: T, id: '1', kind: 'SERVER', localEndpoint: fe, remoteEndpoint: { serviceName: 'web' } },
      { traceId: T, parentId: '1', id: '2', localEndpoint: fe, name: 'local' },
      { traceId: T, parentId: '2', id: '3', kind: 'CLIENT', localEndpoint: be, remoteEndpoint: db },
    ];
    expect(links(spans)).toEqual([
      { parent: 'backend', child: 'db', callCount: 1, errorCount: 0 },
      { parent: 'frontend', child: 'backend', callCount: 1, errorCount: 0 },
      { parent: 'web', child: 'frontend', callCount: 1, errorCount: 0 },
    ]);
  });

  it("takes the client's error for the server side of a split RPC", () => {
    const spans: Span[] = [
      { traceId: T, id: '1', kind: 'CLIENT', localEndpoint: fe, tags: { error: '' } },
      { traceId: T, parentId: '1', id: '2', kind: 'SERVER', localEndpoint: be },
    ];
    expect(links(spans)).toEqual([{ parent: 'frontend', child: 'backend', callCount: 1, errorCount: 1 }]);
  });

  it('merges a span reported in two pieces', () => {
    const spans: Span[] = [
      { traceId: T, id: '1', kind: 'SERVER', localEndpoint: fe },
      { traceId: T, parentId: '1', id: '2', kind: 'CLIENT', localEndpoint: fe, timestamp: 1 },
      { traceId: T, parentId: '1', id: '2', localEndpoint: fe, remoteEndpoint: be, duration: 2 },
    ];
    expect(links(spans)).toEqual([{ parent: 'frontend', child: 'backend', callCount: 1, errorCount: 0 }]);
  });
});
