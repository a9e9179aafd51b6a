import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout, one object per line, with the component name on every line.
 * PINTRACE_LOG_LEVEL (default info) sets the level.
 */
export function createLogger(component: string, options: { level?: string; destination?: number } = {}): Logger {
  const level = options.level ?? process.env.PINTRACE_LOG_LEVEL ?? 'info';
  return pino(
    { level, base: { component, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: options.destination ?? 1, sync: true }),
  );
}
