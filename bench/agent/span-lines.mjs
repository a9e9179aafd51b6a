/** The agent bench's Zipkin v2 span lines: ~295 bytes each, 13 spans per trace, 10 traces interleaved at a time. */
export function spanLines(n) {
  const hex = (v, w) => v.toString(16).padStart(w, '0');
  const out = [];
  for (let i = 0; i < n; i++) {
    const trace = (i % 10) + 10 * Math.floor(i / 130);
    out.push(
      JSON.stringify({
        traceId: hex(0x5eed0000 + trace, 32),
        id: hex(i + 1, 16),
        kind: 'SERVER',
        name: 'get /api/v3/users/{id}/pins',
        timestamp: 1_700_000_000_000_000 + i * 10,
        duration: 1234 + (i % 1000),
        localEndpoint: { serviceName: 'ngapi', ipv4: '10.1.2.3', port: 8080 },
        tags: { 'http.method': 'GET', 'http.status_code': '200' },
      }),
    );
  }
  return Buffer.from(out.join('\n') + '\n');
}
