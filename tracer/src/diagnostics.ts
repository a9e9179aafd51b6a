/**
 * Where the tracer reports its own trouble (drops, write errors, bad input). It has pino's
 * `(object, message)` shape, so a pino logger can be passed as is.
 */
export interface DiagnosticLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

function write(level: string, obj: object, msg?: string): void {
  try {
    process.stderr.write(`${JSON.stringify({ level, component: 'pintrace-tracer', msg, ...serializable(obj) })}\n`);
  } catch {
    // never throw from diagnostics
  }
}

function serializable(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    out[key] = value instanceof Error ? { message: value.message, code: (value as NodeJS.ErrnoException).code } : value;
  }
  return out;
}

/** Default: JSON lines on stderr for info and above; debug is dropped. */
export const stderrLogger: DiagnosticLogger = {
  debug: () => undefined,
  info: (obj, msg) => write('info', obj, msg),
  warn: (obj, msg) => write('warn', obj, msg),
  error: (obj, msg) => write('error', obj, msg),
};

/** A logger that discards everything. */
export const silentLogger: DiagnosticLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
