/**
 * The agent bench's Zipkin v2 span lines: 13 spans per trace, 10 traces interleaved at a time.
 *
 * `ids: 'sequential'` (the default, ~295 bytes a line): counters for ids and one name, endpoint and
 * tag set — a file snappy compresses ~10.5×. `ids: 'random'`: what a tracer writes, ids drawn at
 * random (128-bit trace, 64-bit span and parent ids), names, services, addresses, durations and an
 * http.path varying per span (~360 bytes a line); snappy compresses it ~4.6×, so the producer
 * sends, and TLS encrypts, ~2.9× the bytes per line. Seeded: every run writes the same file.
 */
export function spanLines(n, { ids = 'sequential' } = {}) {
  if (ids === 'random') return randomIdLines(n);
  if (ids !== 'sequential') throw new Error(`span ids: expected sequential or random (got ${ids})`);
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

const NAMES = [
  'get /api/v3/users/{id}/pins',
  'post /api/v3/pins',
  'get /api/v3/boards/{id}',
  'mysql.query',
  'redis.get',
  'memcache.get',
  'grpc ads.Serve',
  'http.client get',
];
const SERVICES = ['ngapi', 'pinservice', 'boardservice', 'adserver', 'userservice'];

function randomIdLines(n) {
  // mulberry32: small, seeded, good enough to make ids that do not compress
  let seed = 0x5eed;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const word = () =>
    Math.floor(rand() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  const traces = new Map();
  const out = [];
  let now = 1_700_000_000_000_000;
  for (let i = 0; i < n; i++) {
    const trace = (i % 10) + 10 * Math.floor(i / 130);
    let t = traces.get(trace);
    if (t === undefined) {
      t = { id: word() + word() + word() + word(), root: word() + word() };
      traces.set(trace, t);
      traces.delete(trace - 20);
    }
    const first = i % 130 < 10;
    now += Math.floor(rand() * 2000);
    const s = Math.floor(rand() * 5);
    out.push(
      JSON.stringify({
        traceId: t.id,
        ...(first ? {} : { parentId: t.root }),
        id: first ? t.root : word() + word(),
        kind: first ? 'SERVER' : 'CLIENT',
        name: NAMES[Math.floor(rand() * NAMES.length)],
        timestamp: now,
        duration: Math.floor(rand() * 250_000),
        localEndpoint: { serviceName: SERVICES[s], ipv4: `10.${s}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`, port: 8080 },
        tags: { 'http.method': 'GET', 'http.status_code': rand() < 0.02 ? '500' : '200', 'http.path': `/api/v3/users/${Math.floor(rand() * 1e9)}/pins` },
      }),
    );
  }
  return Buffer.from(out.join('\n') + '\n');
}
