/**
 * Errors of the logger agent, each with a stable `code` and whether retrying the same operation
 * later may succeed.
 */
export type AgentErrorCode =
  /** A watermark file exists but cannot be parsed; it is set aside as `<file>.corrupt` and the stream restarts. */
  | 'AGENT_WATERMARK_CORRUPT'
  /** Writing the watermark (temp file, fsync, rename) failed. */
  | 'AGENT_WATERMARK_WRITE'
  /** The agent is shutting down; an in-flight operation was abandoned. */
  | 'AGENT_STOPPED';

export class AgentError extends Error {
  override readonly name = 'AgentError';
  readonly code: AgentErrorCode;
  readonly retriable: boolean;

  constructor(code: AgentErrorCode, message: string, options: { retriable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable;
  }
}
