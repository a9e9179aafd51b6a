import { Counter, Gauge, type Registry } from 'prom-client';
import { INTAKE_REJECT_REASONS, type IntakeRejectReason } from './decode.js';

export type IntakeProtocol = 'otlp_http' | 'otlp_grpc' | 'zipkin';
export type IntakeResult = 'accepted' | 'rejected' | 'throttled' | 'failed';

const PROTOCOLS: readonly IntakeProtocol[] = ['otlp_http', 'otlp_grpc', 'zipkin'];

/** The intake's series, on the agent's registry (its /metrics). */
export class IntakeMetrics {
  /** Requests by protocol and result. */
  readonly requests: Counter<'protocol' | 'result'>;
  /** Spans written to the spool and acknowledged. */
  readonly spans: Counter<'protocol'>;
  /** Requests refused as malformed, by reason. */
  readonly rejected: Counter<'protocol' | 'reason'>;
  readonly backlog: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    const p = 'pintrace_agent_intake_';
    this.requests = new Counter({
      name: `${p}requests_total`,
      help: 'Intake requests by protocol and result (accepted, rejected, throttled, failed)',
      labelNames: ['protocol', 'result'],
      registers,
    });
    this.spans = new Counter({ name: `${p}spans_total`, help: 'Spans written to the spool and acknowledged', labelNames: ['protocol'], registers });
    this.rejected = new Counter({
      name: `${p}rejected_total`,
      help: 'Malformed intake requests refused, by reason',
      labelNames: ['protocol', 'reason'],
      registers,
    });
    this.backlog = new Gauge({ name: `${p}spool_backlog_bytes`, help: 'Spool bytes not yet shipped (bounded by --intake-spool-max-bytes)', registers });
    for (const protocol of PROTOCOLS) {
      this.spans.inc({ protocol }, 0);
      for (const reason of INTAKE_REJECT_REASONS) this.rejected.inc({ protocol, reason }, 0);
    }
  }

  reject(protocol: IntakeProtocol, reason: IntakeRejectReason): void {
    this.rejected.inc({ protocol, reason });
    this.requests.inc({ protocol, result: 'rejected' });
  }
}
