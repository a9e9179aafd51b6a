import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Why bytes of a file were stepped over without being shipped. */
export type SkippedBytesReason = 'partial_tail' | 'oversized_line' | 'deleted_unread';

/** Why a committed position was dropped and the stream restarted from its oldest file. */
export type WatermarkResetReason = 'file_missing' | 'inode_reused' | 'corrupt';

/** Error kinds counted in pintrace_agent_errors_total. */
export type AgentErrorKind = 'kafka_send' | 'kafka_connect' | 'watermark_write' | 'read' | 'watch' | 'scan' | 'retention' | 'decider';

/** The agent's Prometheus metrics, registered on the given registry. */
export class AgentMetrics {
  /** Span lines acknowledged by Kafka. */
  readonly lines: Counter<'stream'>;
  /** Bytes of span files committed (shipped, skipped or stepped over). */
  readonly bytes: Counter<'stream'>;
  /** Kafka messages (one per trace per batch) acknowledged. */
  readonly messages: Counter<'topic'>;
  /** send() calls acknowledged by every replica (acks=all). */
  readonly acks: Counter<'topic'>;
  readonly sendSeconds: Histogram<'topic'>;
  /** Lines not shipped, by reason. */
  readonly skippedLines: Counter<'stream' | 'reason'>;
  readonly skippedBytes: Counter<'stream' | 'reason'>;
  /** Rotated files read to their end and left for the next one. */
  readonly rotations: Counter<'stream'>;
  readonly truncations: Counter<'stream'>;
  readonly inodeReuses: Counter<'stream'>;
  readonly watermarkResets: Counter<'stream' | 'reason'>;
  readonly watermarkCommits: Counter<'stream'>;
  readonly errors: Counter<'kind'>;
  /** Bytes in the stream's files after the committed position. */
  readonly lag: Gauge<'stream'>;
  readonly streams: Gauge;
  /** Rejected lines sent to (or dropped instead of) the dead-letter topic. */
  readonly deadLetters: Counter<'result'>;
  /** Deleted files whose handle was closed (disk space released). */
  readonly releasedFiles: Counter<'stream'>;
  /** Rotated files deleted by the retention setting. */
  readonly retentionDeletes: Counter<'stream'>;
  /** Decider values applied to the local decider file from the fleet topic, by result. */
  readonly deciderUpdates: Counter<'result'>;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    const p = 'pintrace_agent_';
    this.lines = new Counter({ name: `${p}lines_total`, help: 'Span lines acknowledged by Kafka', labelNames: ['stream'], registers });
    this.bytes = new Counter({ name: `${p}bytes_total`, help: 'Span file bytes acknowledged or stepped over', labelNames: ['stream'], registers });
    this.messages = new Counter({
      name: `${p}kafka_messages_total`,
      help: 'Kafka messages acknowledged (one per trace per batch)',
      labelNames: ['topic'],
      registers,
    });
    this.acks = new Counter({ name: `${p}kafka_acks_total`, help: 'Kafka sends acknowledged with acks=all', labelNames: ['topic'], registers });
    this.sendSeconds = new Histogram({
      name: `${p}kafka_send_seconds`,
      help: 'Time from send to acknowledgement of one batch',
      labelNames: ['topic'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.skippedLines = new Counter({ name: `${p}skipped_lines_total`, help: 'Lines not shipped, by reason', labelNames: ['stream', 'reason'], registers });
    this.skippedBytes = new Counter({ name: `${p}skipped_bytes_total`, help: 'Bytes stepped over, by reason', labelNames: ['stream', 'reason'], registers });
    this.rotations = new Counter({ name: `${p}rotations_total`, help: 'Rotated files finished', labelNames: ['stream'], registers });
    this.truncations = new Counter({
      name: `${p}truncations_total`,
      help: 'Files found truncated or rewritten (re-read from 0)',
      labelNames: ['stream'],
      registers,
    });
    this.inodeReuses = new Counter({
      name: `${p}inode_reuses_total`,
      help: 'Watermark inode found holding a different file',
      labelNames: ['stream'],
      registers,
    });
    this.watermarkResets = new Counter({
      name: `${p}watermark_resets_total`,
      help: 'Streams restarted from their oldest file, by reason',
      labelNames: ['stream', 'reason'],
      registers,
    });
    this.watermarkCommits = new Counter({ name: `${p}watermark_commits_total`, help: 'Watermarks written', labelNames: ['stream'], registers });
    this.errors = new Counter({ name: `${p}errors_total`, help: 'Errors by kind', labelNames: ['kind'], registers });
    this.lag = new Gauge({ name: `${p}lag_bytes`, help: 'Bytes after the committed position', labelNames: ['stream'], registers });
    this.deadLetters = new Counter({
      name: `${p}dead_letters_total`,
      help: 'Rejected lines sent to the dead-letter topic, or dropped',
      labelNames: ['result'],
      registers,
    });
    this.releasedFiles = new Counter({ name: `${p}released_files_total`, help: 'Deleted files whose handle was closed', labelNames: ['stream'], registers });
    this.retentionDeletes = new Counter({
      name: `${p}retention_deletes_total`,
      help: 'Shipped rotated files deleted by retention',
      labelNames: ['stream'],
      registers,
    });
    this.deciderUpdates = new Counter({
      name: `${p}decider_updates_total`,
      help: 'Fleet decider records applied to the local file (result: written, unchanged, invalid)',
      labelNames: ['result'],
      registers,
    });
    this.streams = new Gauge({ name: `${p}streams`, help: 'Span log streams being tailed', registers });
  }

  /** Sum of a counter or gauge over the series matching `labels` (for tests and status output). */
  async value(metric: Counter<string> | Gauge<string>, labels: Record<string, string> = {}): Promise<number> {
    const { values } = await metric.get();
    let sum = 0;
    for (const v of values) {
      if (Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)) sum += v.value;
    }
    return sum;
  }
}
