/**
 * POST /api/v2/spans: Zipkin's HTTP collector contract, feeding our Kafka topic instead of storage,
 * so clients that speak Zipkin's HTTP API join the pipeline. Answers as zipkin-server does:
 * 202 on success (also for an empty body or "[]"); 400 with a text message for a body that is not a
 * JSON v2 list or holds an invalid span. Valid spans are grouped by trace id and sent as one
 * JSON list message per trace key, keyed by traceKafkaKey (the low 64 bits, as every producer keys).
 * Bodies may be gzip (Content-Encoding: gzip). Protobuf and v1 are not accepted (415 / 400).
 */
import { gunzipSync } from 'node:zlib';
import { decodeSpanList, encodeSpanList, traceKafkaKey, type Span } from '@pintrace/model';
import type { SpanProducer } from '@pintrace/kafka';
import { text, type Reply } from './reply.js';

export interface SpanIntakeOptions {
  producer: () => Promise<SpanProducer>;
  topic: string;
  onAccepted?: (spans: number) => void;
}

const V1_MARKER = 'yAnnotations"';

export class SpanIntake {
  private readonly options: SpanIntakeOptions;

  constructor(options: SpanIntakeOptions) {
    this.options = options;
  }

  async post(body: Buffer, contentType: string | undefined, contentEncoding: string | undefined): Promise<Reply> {
    const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'application/x-protobuf' || type === 'application/x-thrift') {
      return text(415, `${type} is not accepted here: POST a JSON v2 list (application/json)`);
    }
    let content = body;
    if (content.length > 0 && (contentEncoding ?? '').includes('gzip')) {
      try {
        content = gunzipSync(content);
      } catch {
        return text(400, 'Cannot gunzip spans');
      }
    }
    if (content.length === 0 || (content.length === 2 && content.toString('latin1') === '[]')) {
      return { status: 202, headers: {}, body: '' };
    }
    if (content[0] !== 0x5b) return text(400, 'Expected a JSON_V2 encoded list\n');
    if (content.includes(V1_MARKER)) return text(400, 'Expected a JSON_V2 encoded list, but received: JSON_V1\n');
    const decoded = decodeSpanList(content);
    if (!decoded.ok) return text(400, decoded.message);
    const first = decoded.rejected[0];
    if (first !== undefined) return text(400, `${first.message} reading List<Span> from json`);
    const byKey = new Map<string, Span[]>();
    for (const span of decoded.spans) {
      const key = traceKafkaKey(span.traceId);
      const group = byKey.get(key);
      if (group === undefined) byKey.set(key, [span]);
      else group.push(span);
    }
    const producer = await this.options.producer();
    await producer.send(
      this.options.topic,
      [...byKey].map(([key, spans]) => ({ key, value: encodeSpanList(spans) })),
    );
    this.options.onAccepted?.(decoded.spans.length);
    return { status: 202, headers: {}, body: '' };
  }
}
