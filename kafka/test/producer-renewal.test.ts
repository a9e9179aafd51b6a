/**
 * When the librdkafka producer starts a new session after messages timed out: only when the
 * cluster then names a leader for every partition (the client's view is stale), not during an
 * outage. librdkafka's stale state after a broker restart (confluentinc/librdkafka#4976) cannot be
 * brought about on purpose, so the binding is replaced here by a client whose answers the test
 * sets; test/agent-outage.test.ts checks against a real broker that an outage starts no new session.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { KafkaClientError } from '../src/errors.js';

const TIMED_OUT = { code: -192, message: 'Local: Message timed out' };

type Metadata = { topics: Array<{ name: string; partitions: Array<{ id: number; leader: number }> }> };
type Report = (err: { code: number; message: string } | null, report: { opaque?: unknown }) => void;

/** What every fake client does: fail each message with `failure` (or deliver it), and answer metadata with `metadata`. */
const cluster: { failure: { code: number; message: string } | null; metadata: Metadata | Error } = { failure: null, metadata: new Error('no answer') };
const clients: FakeProducer[] = [];

class FakeProducer {
  readonly produced: string[] = [];
  metadataRequests = 0;
  #report: Report | undefined;
  #inFlight = 0;
  constructor() {
    clients.push(this);
  }
  on(event: string, cb: Report): void {
    if (event === 'delivery-report') this.#report = cb;
  }
  connect(_options: unknown, cb: (err: null) => void): void {
    setImmediate(() => cb(null));
  }
  setPollInBackground(): void {}
  produce(_topic: string, _partition: null, value: Buffer, _key: unknown, _ts: unknown, opaque: unknown): void {
    this.produced.push(value.toString());
    this.#inFlight++;
    const failure = cluster.failure;
    setImmediate(() => {
      if (failure !== null || opaque !== undefined) this.#report?.(failure, { opaque });
      this.#inFlight--;
    });
  }
  flush(_timeoutMs: number, cb: (err: { code: number; message: string } | null) => void): void {
    setImmediate(() => cb(this.#inFlight > 0 ? { code: -185, message: 'Local: Timed out' } : null));
  }
  getMetadata(_options: unknown, cb: (err: Error | null, metadata?: Metadata) => void): void {
    this.metadataRequests++;
    const answer = cluster.metadata;
    setImmediate(() => (answer instanceof Error ? cb(answer) : cb(null, answer)));
  }
  disconnect(_timeoutMs: number, cb: () => void): void {
    setImmediate(cb);
  }
}

vi.mock('../src/librdkafka-base.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/librdkafka-base.js')>();
  const module = {
    Producer: FakeProducer,
    KafkaJS: { Kafka: class {} },
    features: [],
    librdkafkaVersion: 'fake',
    CODES: { ERRORS: { ERR__MSG_TIMED_OUT: -192, ERR__TRANSPORT: -195 } },
  };
  return { ...original, requireLibrdkafka: () => module };
});
const { LibrdkafkaSpanProducer } = await import('../src/librdkafka.js');

const led = (...leaders: number[]): Metadata => ({ topics: [{ name: 'spans', partitions: leaders.map((leader, id) => ({ id, leader })) }] });

describe.each([['per message'], ['drain']] as const)('librdkafka producer, delivery reports %s', (mode) => {
  let lines: string[];
  const producer = async () => {
    lines = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const p = new LibrdkafkaSpanProducer({ brokers: ['127.0.0.1:1'], requestTimeoutMs: 1000, logger, deliveryReports: mode === 'drain' ? 'drain' : 'each' });
    await p.connect();
    return p;
  };
  const failedSend = async (p: InstanceType<typeof LibrdkafkaSpanProducer>, value: string) => {
    const err = await p.send('spans', [{ key: 'k', value }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaClientError);
    return err as KafkaClientError;
  };
  const renewals = () => lines.filter((l) => l.includes('starting a new producer session'));

  beforeEach(() => {
    clients.length = 0;
    cluster.failure = null;
    cluster.metadata = new Error('no answer');
  });

  it('starts a new producer when messages timed out while the cluster names a leader for every partition', async () => {
    const p = await producer();
    cluster.failure = TIMED_OUT;
    cluster.metadata = led(1, 1, 2);
    expect((await failedSend(p, 'a')).code).toBe('KAFKA_TIMEOUT');
    expect(clients[0]!.metadataRequests).toBe(1);
    cluster.failure = null;
    await p.send('spans', [{ key: 'k', value: 'b' }]);
    expect(clients).toHaveLength(2);
    expect(clients[0]!.produced).toEqual(['a']);
    expect(clients[1]!.produced).toEqual(['b']);
    expect(renewals()).toHaveLength(1);
    expect(renewals()[0]).toContain('leader for every partition');
    // the new session is kept: a further send neither asks nor renews
    await p.send('spans', [{ key: 'k', value: 'c' }]);
    expect(clients).toHaveLength(2);
  });

  it('keeps its producer when the cluster does not answer (an outage) or a partition has no leader', async () => {
    const p = await producer();
    cluster.failure = TIMED_OUT;
    await failedSend(p, 'a');
    cluster.metadata = led(1, -1);
    await failedSend(p, 'b');
    cluster.metadata = { topics: [] };
    await failedSend(p, 'c');
    cluster.failure = null;
    await p.send('spans', [{ key: 'k', value: 'd' }]);
    expect(clients).toHaveLength(1);
    expect(clients[0]!.metadataRequests).toBe(3);
    expect(clients[0]!.produced).toEqual(['a', 'b', 'c', 'd']);
    expect(renewals()).toEqual([]);
  });

  it('does not ask the cluster after failures other than a timeout', async () => {
    const p = await producer();
    cluster.failure = { code: -195, message: 'Local: Broker transport failure' };
    cluster.metadata = led(1);
    await failedSend(p, 'a');
    cluster.failure = null;
    await p.send('spans', [{ key: 'k', value: 'b' }]);
    expect(clients).toHaveLength(1);
    expect(clients[0]!.metadataRequests).toBe(0);
  });
});
