/**
 * Load and counting helpers for the logger-agent acceptance tests: span lines that carry a
 * sequence number in their span id, a consumer that counts arrivals per sequence number without
 * parsing JSON, and RSS sampling of a child process.
 */
import { readFileSync } from 'node:fs';
import { createConsumer, type SpanConsumer } from '@pintrace/kafka';
import { uniqueName } from './servers.js';

const HEX = '0123456789abcdef';
function hex(n: number, width: number): string {
  let s = '';
  for (let i = 0; i < width; i++) {
    s = HEX[n & 15] + s;
    n = Math.floor(n / 16);
  }
  return s;
}

/** A Zipkin v2 span line for sequence number `seq` (its span id is the 16-hex-digit seq); 8 spans per trace. */
export function seqLine(seq: number, service = 'svc'): string {
  const trace = hex(Math.floor(seq / 8), 16);
  return `{"traceId":"5eed${trace}000000000000","id":"${hex(seq, 16)}","name":"get /x","kind":"SERVER","timestamp":${1_700_000_000_000_000 + seq},"duration":7,"localEndpoint":{"serviceName":"${service}"}}\n`;
}

export function seqLines(from: number, to: number, service?: string): string {
  let s = '';
  for (let n = from; n < to; n++) s += seqLine(n, service);
  return s;
}

const ID = Buffer.from('"id":"');

/** Sequence numbers in a Kafka message value ([span,...]), read from each `"id":"` without a JSON parse. */
export function seqsOf(value: Buffer): number[] {
  const out: number[] = [];
  let i = value.indexOf(ID);
  while (i >= 0) {
    const start = i + ID.length;
    out.push(Number.parseInt(value.toString('latin1', start, start + 16), 16));
    i = value.indexOf(ID, start + 16);
  }
  return out;
}

export interface ArrivalCounter {
  /** Times each sequence number arrived. */
  counts: Uint8Array;
  /** Messages read. */
  messages: number;
  /** Span records read (duplicates included). */
  records: number;
  distinct(): number;
  duplicates(): number;
  missing(): number[];
  stop(): Promise<void>;
}

/** Reads the topic from its beginning with a fresh group and counts sequence numbers below `capacity`. */
export async function countArrivals(brokers: string[], topic: string, capacity: number): Promise<ArrivalCounter> {
  const consumer: SpanConsumer = createConsumer({
    brokers,
    groupId: uniqueName('agent-count'),
    topics: [topic],
    fromBeginning: true,
    maxWaitTimeMs: 200,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  const counts = new Uint8Array(capacity);
  let distinct = 0;
  const c: ArrivalCounter = {
    counts,
    messages: 0,
    records: 0,
    distinct: () => distinct,
    duplicates: () => c.records - distinct,
    missing: () => {
      const out: number[] = [];
      for (let i = 0; i < capacity; i++) if (counts[i] === 0) out.push(i);
      return out;
    },
    stop: () => consumer.disconnect(),
  };
  await consumer.connect();
  await consumer.run(async (batch) => {
    for (const m of batch.messages) {
      c.messages++;
      if (m.value === null) continue;
      for (const seq of seqsOf(m.value)) {
        c.records++;
        if (seq >= capacity) continue;
        if (counts[seq] === 0) distinct++;
        if (counts[seq] < 255) counts[seq]++;
      }
    }
  });
  return c;
}

/** Resident set size of a process in MB (Linux /proc), or undefined once it is gone. */
export function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}
