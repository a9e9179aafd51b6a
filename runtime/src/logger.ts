import { pino, destination, stdTimeFunctions, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs, one object per line, with the component name on every line.
 * PINTRACE_LOG_LEVEL (default info) sets the level. Logs go to stdout unless a file
 * descriptor is given (CLI commands that print progress for people log to stderr).
 */
export function createLogger(component: string, options: { level?: string; fd?: number } = {}): Logger {
  const level = options.level ?? process.env.PINTRACE_LOG_LEVEL ?? 'info';
  return pino({ level, base: { component, pid: process.pid }, timestamp: stdTimeFunctions.isoTime }, destination({ dest: options.fd ?? 1, sync: true }));
}
