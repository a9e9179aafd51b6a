/**
 * Errors of the logger agent, each with a stable `code` and whether retrying the same operation
 * later may succeed (runtime's PintraceError).
 */
import { PintraceError } from '@pintrace/runtime';

export type AgentErrorCode =
  /** A watermark file exists but cannot be parsed; it is set aside as `<file>.corrupt` and the stream restarts. */
  | 'AGENT_WATERMARK_CORRUPT'
  /** Writing the watermark (temp file, fsync, rename) failed. */
  | 'AGENT_WATERMARK_WRITE'
  /** The agent is shutting down; an in-flight operation was abandoned. */
  | 'AGENT_STOPPED';

export class AgentError extends PintraceError<AgentErrorCode> {
  override readonly name = 'AgentError';
}
