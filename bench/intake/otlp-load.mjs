/**
 * bench/intake's load: OTLP/HTTP protobuf export requests as an OpenTelemetry SDK sends them
 * (BatchSpanProcessor: 512 spans a request, one resource, spans grouped by instrumentation scope),
 * encoded up front so the load generator's own CPU is not in the way, and a Kafka-side reader
 * that finds span ids in what each server wrote (Zipkin v2 JSON or OTLP protobuf).
 *
 * The encoding follows the published OTLP protos (opentelemetry/proto/collector/trace/v1 and
 * trace/v1, common/v1, resource/v1) field by field, written with protobufjs's Writer.
 */
import { randomBytes } from 'node:crypto';
import protobuf from 'protobufjs';

const { Writer } = protobuf;

const LEN = 2;
const I64 = 1;
const VARINT = 0;
const tag = (w, field, wire) => w.uint32((field << 3) | wire);

function str(w, field, s) {
  tag(w, field, LEN).string(s);
}
function bytes(w, field, b) {
  tag(w, field, LEN).bytes(b);
}
/** fixed64 from a bigint, as two little-endian 32-bit halves. */
function fixed64(w, field, v) {
  tag(w, field, I64)
    .fixed32(Number(v & 0xffffffffn))
    .fixed32(Number(v >> 32n));
}
/** KeyValue { key = 1; AnyValue value = 2 } with AnyValue { string 1, bool 2, int 3, double 4 }. */
function attr(w, field, key, value) {
  tag(w, field, LEN).fork();
  str(w, 1, key);
  tag(w, 2, LEN).fork();
  if (typeof value === 'string') str(w, 1, value);
  else if (typeof value === 'boolean') tag(w, 2, VARINT).bool(value);
  else if (Number.isInteger(value)) tag(w, 3, VARINT).int64(value);
  else tag(w, 4, I64).double(value);
  w.ldelim().ldelim();
}
function attrs(w, field, object) {
  for (const [k, v] of Object.entries(object)) attr(w, field, k, v);
}

/** Span { trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6, start 7, end 8, attributes 9, events 11, status 15, flags 16 }. */
function span(w, s) {
  tag(w, 2, LEN).fork();
  bytes(w, 1, s.traceId);
  bytes(w, 2, s.spanId);
  if (s.parentSpanId) bytes(w, 4, s.parentSpanId);
  str(w, 5, s.name);
  tag(w, 6, VARINT).int32(s.kind);
  fixed64(w, 7, s.start);
  fixed64(w, 8, s.end);
  attrs(w, 9, s.attributes);
  for (const e of s.events) {
    tag(w, 11, LEN).fork();
    fixed64(w, 1, e.time);
    str(w, 2, e.name);
    attrs(w, 3, e.attributes);
    w.ldelim();
  }
  if (s.status) {
    tag(w, 15, LEN).fork();
    if (s.status.message) str(w, 2, s.status.message);
    tag(w, 3, VARINT).int32(s.status.code);
    w.ldelim();
  }
  tag(w, 16, 5).fixed32(0x100 | 1); // sampled, parent-is-remote known (as SDKs ≥ 1.30 set it)
  w.ldelim();
}

const KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 };
const SERVICES = ['checkout', 'orders', 'inventory', 'payments'];
const ROUTES = ['/api/orders/:id', '/api/cart', '/api/items/:sku', '/api/pay'];
const PEERS = ['inventory.internal', 'payments.internal', 'users.internal', 'pricing.internal'];

/**
 * One trace as one service's SDK records it: a server span, three internal steps and four
 * outgoing HTTP calls (8 spans), with the attributes of OpenTelemetry's HTTP semantic conventions;
 * one trace in 20 fails, with an exception event.
 */
function traceSpans(n, startNs) {
  const traceId = randomBytes(16);
  const ids = Array.from({ length: 8 }, () => randomBytes(8));
  const failed = n % 20 === 7;
  const route = ROUTES[n % ROUTES.length];
  const path = route.replace(':id', String(1000 + (n % 9000))).replace(':sku', `sku-${n % 500}`);
  const status = failed ? 500 : 200;
  const out = [
    {
      scope: 0,
      traceId,
      spanId: ids[0],
      name: `GET ${route}`,
      kind: KIND.SERVER,
      start: startNs,
      end: startNs + 48_000_000n,
      attributes: {
        'http.request.method': 'GET',
        'url.path': path,
        'url.scheme': 'http',
        'http.route': route,
        'http.response.status_code': status,
        'server.address': 'shop.internal',
        'server.port': 8080,
        'client.address': `10.0.${n % 250}.${(n * 7) % 250}`,
        'network.protocol.version': '1.1',
        'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
      },
      events: failed
        ? [
            {
              time: startNs + 47_000_000n,
              name: 'exception',
              attributes: {
                'exception.type': 'UpstreamError',
                'exception.message': 'payments.internal answered 503',
                'exception.stacktrace': 'UpstreamError: payments.internal answered 503\n    at pay (app/pay.py:88)\n    at handle (app/server.py:41)',
              },
            },
          ]
        : [],
      status: failed ? { code: 2, message: 'payments.internal answered 503' } : undefined,
    },
  ];
  for (let i = 1; i <= 3; i++) {
    out.push({
      scope: 1,
      traceId,
      spanId: ids[i],
      parentSpanId: ids[0],
      name: ['load-cart', 'price', 'render'][i - 1],
      kind: KIND.INTERNAL,
      start: startNs + BigInt(i) * 1_000_000n,
      end: startNs + BigInt(i) * 1_000_000n + 9_000_000n,
      attributes: { 'app.step': i, 'app.items': (n % 12) + 1, 'app.cache_hit': n % 3 === 0 },
      events: [],
    });
  }
  for (let i = 4; i < 8; i++) {
    const peer = PEERS[i - 4];
    out.push({
      scope: 0,
      traceId,
      spanId: ids[i],
      parentSpanId: ids[1 + (i % 3)],
      name: 'GET',
      kind: KIND.CLIENT,
      start: startNs + BigInt(i) * 4_000_000n,
      end: startNs + BigInt(i) * 4_000_000n + 3_000_000n,
      attributes: {
        'http.request.method': 'GET',
        'url.full': `http://${peer}:8080/v1/lookup/${n % 1000}`,
        'server.address': peer,
        'server.port': 8080,
        'network.peer.address': `10.1.${i}.${n % 250}`,
        'network.peer.port': 8080,
        'http.response.status_code': failed && i === 5 ? 503 : 200,
      },
      events: [],
      status: failed && i === 5 ? { code: 2, message: '' } : undefined,
    });
  }
  return out;
}

/**
 * `count` export requests of `spansPerRequest` spans (a multiple of 8: whole traces), service
 * names taking turns as if four SDK processes exported. Returns the bodies and, per request, the
 * span ids it carries (hex), so acknowledged spans can be looked for in Kafka.
 */
export function exportRequests(count, spansPerRequest = 512, seed = 0) {
  const tracesPerRequest = Math.max(1, Math.floor(spansPerRequest / 8));
  const bodies = [];
  const spanIds = [];
  let n = seed;
  const baseNs = BigInt(Date.now()) * 1_000_000n;
  for (let r = 0; r < count; r++) {
    const service = SERVICES[r % SERVICES.length];
    const spans = [];
    for (let t = 0; t < tracesPerRequest; t++, n++) spans.push(...traceSpans(n, baseNs + BigInt(n) * 1_000_000n));
    const w = Writer.create();
    tag(w, 1, LEN).fork(); // ResourceSpans
    tag(w, 1, LEN).fork(); // Resource
    attrs(w, 1, {
      'service.name': service,
      'service.version': '2.14.1',
      'service.instance.id': `${service}-7f9c4d-${r % 4}`,
      'deployment.environment.name': 'production',
      'host.name': `ip-10-0-${r % 4}-17`,
      'host.arch': 'amd64',
      'os.type': 'linux',
      'process.pid': 4100 + (r % 4),
      'process.runtime.name': 'cpython',
      'process.runtime.version': '3.11.7',
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.language': 'python',
      'telemetry.sdk.version': '1.45.2',
    });
    w.ldelim();
    for (const [scope, name, version] of [
      [0, 'opentelemetry.instrumentation.requests', '0.56b0'],
      [1, 'shop.app', '2.14.1'],
    ]) {
      tag(w, 2, LEN).fork(); // ScopeSpans
      tag(w, 1, LEN).fork();
      str(w, 1, name);
      str(w, 2, version);
      w.ldelim();
      for (const s of spans) if (s.scope === scope) span(w, s);
      w.ldelim();
    }
    w.ldelim();
    bodies.push(Buffer.from(w.finish()));
    spanIds.push(spans.map((s) => s.spanId.toString('hex')));
  }
  return { bodies, spanIds };
}

const ID = /"id":"([0-9a-f]{16})"/g;

/** Span ids in one Kafka message: a Zipkin v2 JSON list (ours, and the Collector's zipkin_json). */
export function zipkinJsonSpanIds(value, onId) {
  const text = value.toString('latin1');
  ID.lastIndex = 0;
  for (let m = ID.exec(text); m !== null; m = ID.exec(text)) onId(m[1]);
}

/** Reads a length-delimited field's bounds (after its tag) at `pos`. */
function varint(buf, pos) {
  let v = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [v, pos];
    shift += 7;
  }
}

/** Calls onField(field, start, end) for each length-delimited field of buf[start, end); skips the rest. */
function fields(buf, start, end, onField) {
  let pos = start;
  while (pos < end) {
    let key;
    [key, pos] = varint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) [, pos] = varint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      let len;
      [len, pos] = varint(buf, pos);
      onField(field, pos, pos + len);
      pos += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
}

/** Span ids in one Kafka message in OTLP protobuf (TracesData: the Collector's otlp_proto). */
export function otlpProtoSpanIds(value, onId) {
  fields(value, 0, value.length, (f1, a, b) => {
    if (f1 !== 1) return; // resource_spans
    fields(value, a, b, (f2, c, d) => {
      if (f2 !== 2) return; // scope_spans
      fields(value, c, d, (f3, e, g) => {
        if (f3 !== 2) return; // spans
        fields(value, e, g, (f4, h, i) => {
          if (f4 === 2) onId(value.toString('hex', h, i)); // span_id
        });
      });
    });
  });
}
