import { createRequire } from 'node:module';
import net from 'node:net';
import { context, trace, type Span } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { NEVER_SAMPLE } from '@pintrace/sampler';
import {
  CAN_TRACE_METHOD,
  createTTwitterConnection,
  createTTwitterServer,
  type TTwitterClientOptions,
  type TTwitterServerOptions,
  type Tracing,
} from '@pintrace/tracer';
import { closeAfterEach, memoryTracingFor, type MemoryTracingOptions } from '../helpers.js';

const require = createRequire(import.meta.url);
const thrift = require('thrift');
const EchoService = require('./gen/EchoService.js');
const { EchoError } = require('./gen/echo_types.js');

interface EchoClient {
  echo(msg: string): Promise<string>;
  fire(msg: string): Promise<void>;
}

const closers = closeAfterEach();

const setup = (options: MemoryTracingOptions = {}) => memoryTracingFor(closers, options);

/** echo answers its argument; "fail" throws EchoError, "crash" a plain Error (TApplicationException). */
function handler(tracing?: Tracing, seen: Array<string | undefined> = []) {
  return {
    echo: async (msg: string) => {
      seen.push(trace.getActiveSpan()?.spanContext().spanId);
      if (tracing) await tracing.tracer.startActiveSpan('inner', async (span: Span) => span.end());
      if (msg === 'fail') throw new EchoError({ message: 'echo refused', code: 7 });
      if (msg === 'crash') throw new Error('handler crashed');
      return msg;
    },
    fire: (_msg: string) => undefined,
  };
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

async function ourServer(tracing: Tracing, options: TTwitterServerOptions = {}, seen?: Array<string | undefined>) {
  return listen(createTTwitterServer(tracing, EchoService, handler(tracing, seen), options));
}

function ourClient(tracing: Tracing, port: number, options: TTwitterClientOptions = {}) {
  const connection = createTTwitterConnection(tracing, '127.0.0.1', port, options);
  closers.push(() => connection.destroy());
  const client = thrift.createClient(EchoService, connection) as EchoClient;
  return { connection, client };
}

describe('TTwitter client ↔ TTwitter server', () => {
  it('upgrades the connection and joins the server span to the client span', async () => {
    const server = setup({ serviceName: 'echo-server' });
    const caller = setup({ serviceName: 'echo-client' });
    const port = await ourServer(server.tracing);
    const { connection, client } = ourClient(caller.tracing, port, { remoteServiceName: 'echo-server' });

    const parent = caller.tracing.tracer.startSpan('caller');
    const answer = await context.with(trace.setSpan(context.active(), parent), () => client.echo('hi'));
    parent.end();
    expect(answer).toBe('hi');
    expect(connection.upgraded).toBe(true);

    const [clientSpan, callerSpan] = caller.sink.spans();
    const [inner, serverSpan] = server.sink.spans();
    expect(clientSpan).toMatchObject({
      kind: 'CLIENT',
      name: 'echo',
      traceId: callerSpan.traceId,
      parentId: callerSpan.id,
      remoteEndpoint: { serviceName: 'echo-server', ipv4: '127.0.0.1', port },
    });
    expect(serverSpan).toMatchObject({
      kind: 'SERVER',
      name: 'echo',
      traceId: clientSpan.traceId,
      id: clientSpan.id,
      parentId: callerSpan.id,
      shared: true,
      localEndpoint: { serviceName: 'echo-server' },
      remoteEndpoint: { ipv4: '127.0.0.1' },
    });
    expect(serverSpan.tags?.['srv/thrift/ttwitter']).toBeUndefined();
    expect(inner).toMatchObject({ name: 'inner', traceId: clientSpan.traceId, parentId: serverSpan.id });
  });

  it('carries 128-bit trace ids, debug and client_id; several calls share the connection', async () => {
    const server = setup();
    const caller = setup({ traceId128Bit: true });
    const port = await ourServer(server.tracing);
    const { client } = ourClient(caller.tracing, port, { clientId: 'checkout' });
    await Promise.all([client.echo('a'), client.echo('b'), client.echo('c')]);
    const clientSpans = caller.sink.spans();
    const serverSpans = server.sink.spans().filter((s) => s.kind === 'SERVER');
    expect(serverSpans).toHaveLength(3);
    for (const c of clientSpans) {
      expect(c.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(serverSpans.find((s) => s.id === c.id)).toMatchObject({ traceId: c.traceId, tags: { 'srv/thrift/clientId': 'checkout' } });
    }
  });

  it('honours an unsampled caller: no spans on either side, calls still work', async () => {
    const server = setup();
    const caller = setup({ sampler: NEVER_SAMPLE });
    const port = await ourServer(server.tracing);
    const { client } = ourClient(caller.tracing, port);
    expect(await client.echo('quiet')).toBe('quiet');
    expect(caller.sink.spans()).toEqual([]);
    expect(server.sink.spans()).toEqual([]);
  });

  it('marks declared exceptions and application exceptions as errors on both sides', async () => {
    const server = setup();
    const caller = setup();
    const port = await ourServer(server.tracing);
    const { client } = ourClient(caller.tracing, port);
    await expect(client.echo('fail')).rejects.toMatchObject({ message: 'echo refused', code: 7 });
    await expect(client.echo('crash')).rejects.toMatchObject({ message: 'handler crashed' });
    const [declared, app] = caller.sink.spans();
    expect(declared.tags?.error).toBe('echo refused');
    expect(app.tags?.error).toBe('handler crashed');
    const serverSpans = server.sink.spans().filter((s) => s.kind === 'SERVER');
    expect(serverSpans.map((s) => s.tags?.error)).toEqual(['echo refused', 'handler crashed']);
  });

  it('works over the buffered transport and for oneway calls', async () => {
    const server = setup();
    const caller = setup();
    const port = await ourServer(server.tracing, { transport: 'buffered' });
    const { connection, client } = ourClient(caller.tracing, port, { transport: 'buffered' });
    await client.fire('x');
    expect(await client.echo('buffered')).toBe('buffered');
    expect(connection.upgraded).toBe(true);
    expect(caller.sink.spans().map((s) => s.name)).toEqual(['fire', 'echo']);
    const fire = server.sink.spans().find((s) => s.name === 'fire');
    expect(fire).toMatchObject({ kind: 'SERVER', id: caller.sink.spans()[0].id, shared: true });
  });

  it('works with the compact protocol', async () => {
    const server = setup();
    const caller = setup();
    const port = await ourServer(server.tracing, { protocol: thrift.TCompactProtocol });
    const { connection, client } = ourClient(caller.tracing, port, { protocol: thrift.TCompactProtocol });
    expect(await client.echo('compact')).toBe('compact');
    await expect(client.echo('fail')).rejects.toMatchObject({ message: 'echo refused' });
    expect(connection.upgraded).toBe(true);
    const [ok, failed] = caller.sink.spans();
    expect(
      server.sink
        .spans()
        .filter((s) => s.kind === 'SERVER')
        .map((s) => [s.id, s.tags?.error]),
    ).toEqual([
      [ok.id, undefined],
      [failed.id, 'echo refused'],
    ]);
  });

  it('runs callbacks and continuations in the caller context', async () => {
    const server = setup();
    const caller = setup();
    const port = await ourServer(server.tracing);
    const { client } = ourClient(caller.tracing, port);
    const results = await Promise.all(
      ['a', 'b'].map((msg) =>
        caller.tracing.tracer.startActiveSpan(msg, async (span: Span) => {
          await client.echo(msg);
          const after = trace.getActiveSpan()?.spanContext().spanId;
          span.end();
          return after === span.spanContext().spanId;
        }),
      ),
    );
    expect(results).toEqual([true, true]);
  });

  it('fails calls in flight when the server goes away, and reconnects for the next call', async () => {
    const server = setup();
    const caller = setup();
    let hang = true;
    const plain = createTTwitterServer(server.tracing, EchoService, {
      echo: (msg: string) => (hang && msg === 'hang' ? new Promise(() => undefined) : Promise.resolve(msg)),
      fire: () => undefined,
    });
    const sockets: net.Socket[] = [];
    plain.on('connection', (s) => sockets.push(s));
    const port = await listen(plain);
    const { client } = ourClient(caller.tracing, port);
    const pending = client.echo('hang');
    await new Promise((r) => setTimeout(r, 50));
    for (const s of sockets) s.destroy();
    await expect(pending).rejects.toThrow(/closed/);
    hang = false;
    expect(await client.echo('again')).toBe('again');
    expect(caller.sink.spans().map((s) => s.tags?.error)).toEqual([expect.stringMatching(/closed/), undefined]);
  });
});

describe('TTwitter against plain Thrift peers', () => {
  it('falls back to plain Thrift against a server that refuses the upgrade', async () => {
    const caller = setup();
    const server = thrift.createServer(EchoService, handler(), { transport: thrift.TFramedTransport, protocol: thrift.TBinaryProtocol });
    const port = await listen(server);
    const { connection, client } = ourClient(caller.tracing, port);
    expect(await client.echo('plain')).toBe('plain');
    expect(await client.echo('again')).toBe('again');
    expect(connection.upgraded).toBe(false);
    expect(caller.sink.spans()).toHaveLength(2);
    expect(caller.sink.spans()[0]).toMatchObject({ kind: 'CLIENT', name: 'echo' });
  });

  it('falls back against a buffered plain server too', async () => {
    const caller = setup();
    const server = thrift.createServer(EchoService, handler(), {});
    const port = await listen(server);
    const { connection, client } = ourClient(caller.tracing, port, { transport: 'buffered' });
    expect(await client.echo('plain')).toBe('plain');
    expect(connection.upgraded).toBe(false);
  });

  /** A proxy to a plain framed Thrift server that mishandles the TTwitter handshake. */
  async function awkwardServer(onHandshake: 'hang-up' | 'swallow'): Promise<number> {
    const plainPort = await listen(thrift.createServer(EchoService, handler(), { transport: thrift.TFramedTransport }));
    const proxy = net.createServer((socket) => {
      let first = true; // only the first frame can be the handshake
      const upstream = net.connect(plainPort, '127.0.0.1');
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
      upstream.pipe(socket);
      socket.on('data', (data: Buffer) => {
        if (first && data.includes(CAN_TRACE_METHOD)) {
          first = false;
          if (onHandshake === 'hang-up') socket.destroy();
          return; // the handshake frame arrives alone: the client holds calls until it is answered
        }
        upstream.write(data);
      });
      socket.on('close', () => upstream.destroy());
    });
    return listen(proxy);
  }

  it('falls back to plain Thrift when the server hangs up on the handshake', async () => {
    const caller = setup();
    const port = await awkwardServer('hang-up');
    const { connection, client } = ourClient(caller.tracing, port);
    expect(await client.echo('after hang-up')).toBe('after hang-up');
    expect(connection.upgraded).toBe(false);
    expect(caller.sink.spans()).toHaveLength(1);
  });

  it('falls back to plain Thrift when the handshake is not answered in time', async () => {
    const caller = setup();
    const port = await awkwardServer('swallow');
    const { connection, client } = ourClient(caller.tracing, port, { handshakeTimeoutMs: 100 });
    const started = Date.now();
    expect(await client.echo('after silence')).toBe('after silence');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(connection.upgraded).toBe(false);
  });

  it('serves a plain Thrift client; its calls start new traces tagged ttwitter=false', async () => {
    const server = setup();
    const port = await ourServer(server.tracing);
    const connection = thrift.createConnection('127.0.0.1', port, { transport: thrift.TFramedTransport, protocol: thrift.TBinaryProtocol });
    closers.push(() => connection.destroy());
    const client = thrift.createClient(EchoService, connection) as EchoClient;
    expect(await client.echo('from plain')).toBe('from plain');
    const serverSpan = server.sink.spans().find((s) => s.kind === 'SERVER');
    expect(serverSpan).toMatchObject({ name: 'echo', tags: { 'srv/thrift/ttwitter': 'false' } });
    expect(serverSpan?.parentId).toBeUndefined();
  });
});

describe('TTwitter wire format', () => {
  /** Binary-protocol helpers to build frames exactly as a Finagle client sends them. */
  const i32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };
  const str = (s: string) => Buffer.concat([i32(Buffer.byteLength(s)), Buffer.from(s)]);
  const field = (type: number, id: number) => Buffer.from([type, id >> 8, id & 0xff]);
  const i64 = (hex: string) => Buffer.from(hex, 'hex');
  const call = (name: string, seqid: number, body: Buffer) => Buffer.concat([i32(0x80010001 | 0), str(name), i32(seqid), body]);
  const framed = (b: Buffer) => Buffer.concat([i32(b.length), b]);

  it('answers the handshake and reads a Finagle RequestHeader (contexts included)', async () => {
    const server = setup();
    const port = await ourServer(server.tracing);
    const socket = net.connect(port, '127.0.0.1');
    closers.push(() => void socket.destroy());
    const frames: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const waiters: Array<() => void> = [];
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        frames.push(pending.subarray(4, 4 + pending.readInt32BE(0)));
        pending = pending.subarray(4 + pending.readInt32BE(0));
        waiters.shift()?.();
      }
    });
    const next = () => new Promise<Buffer>((resolve) => (frames.length ? resolve(frames.shift()!) : waiters.push(() => resolve(frames.shift()!))));

    socket.write(framed(call(CAN_TRACE_METHOD, 0, Buffer.from([0]))));
    const upgrade = await next();
    expect(upgrade.readInt32BE(0)).toBe(0x80010002 | 0); // version 1, REPLY
    expect(upgrade.subarray(8, 8 + CAN_TRACE_METHOD.length).toString()).toBe(CAN_TRACE_METHOD);
    expect(upgrade.subarray(upgrade.length - 1)).toEqual(Buffer.from([0])); // UpgradeReply {}

    const context = (key: string, value: string) => Buffer.concat([field(11, 1), str(key), field(11, 2), str(value), Buffer.from([0])]);
    const header = Buffer.concat([
      field(10, 1),
      i64('fedcba9876543210'), // trace_id, negative as a signed i64
      field(10, 2),
      i64('0000000000000abc'),
      field(10, 3),
      i64('0000000000000def'),
      field(2, 5),
      Buffer.from([1]), // sampled = true
      field(10, 7),
      i64('0000000000000000'), // flags
      field(15, 8),
      Buffer.from([12]),
      i32(2), // contexts: list<RequestContext>, 2 entries
      context('com.twitter.finagle.tracing.TraceContext', 'x'),
      context('com.twitter.finagle.Retries', 'y'),
      Buffer.from([0]),
    ]);
    const args = Buffer.concat([field(11, 1), str('wire'), Buffer.from([0])]);
    socket.write(framed(Buffer.concat([header, call('echo', 42, args)])));
    const reply = await next();
    expect(reply[0]).toBe(0); // ResponseHeader {} first
    expect(reply.subarray(1).readInt32BE(0)).toBe(0x80010002 | 0);
    expect(reply.includes(Buffer.from('wire'))).toBe(true);

    const serverSpan = server.sink.spans().find((s) => s.kind === 'SERVER');
    expect(serverSpan).toMatchObject({ traceId: 'fedcba9876543210', id: '0000000000000abc', parentId: '0000000000000def', shared: true });
  });

  it('sends the handshake first and a RequestHeader before each call', async () => {
    const caller = setup();
    const frames: Buffer[] = [];
    const raw = net.createServer((socket) => {
      socket.on('data', (d: Buffer) => {
        frames.push(d.subarray(4));
        if (frames.length === 1) {
          // UpgradeReply
          socket.write(framed(Buffer.concat([i32(0x80010002 | 0), str(CAN_TRACE_METHOD), i32(0), Buffer.from([0])])));
        } else {
          const result = Buffer.concat([field(11, 0), str('ok'), Buffer.from([0])]);
          socket.write(framed(Buffer.concat([Buffer.from([0]), Buffer.concat([i32(0x80010002 | 0), str('echo'), i32(1), result])])));
        }
      });
    });
    const port = await listen(raw);
    const { client } = ourClient(caller.tracing, port);
    expect(await client.echo('x')).toBe('ok');
    expect(frames[0]).toEqual(call(CAN_TRACE_METHOD, 0, Buffer.from([0])));
    const span = caller.sink.spans()[0];
    const request = frames[1];
    expect(request.subarray(0, 3)).toEqual(field(10, 1));
    expect(request.subarray(3, 11).toString('hex')).toBe(span.traceId);
    expect(request.subarray(14, 22).toString('hex')).toBe(span.id);
    expect(request.includes(call('echo', 1, Buffer.alloc(0)).subarray(0, 12))).toBe(true);
  });
});
