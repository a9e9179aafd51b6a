import { startTracing, type DiagnosticLogger, type Tracing } from '@pintrace/tracer';
import type { RateSource } from '@pintrace/sampler';
import { createBackend } from './backend.js';
import { createFrontend } from './frontend.js';
import { close, listen } from './http-util.js';

export interface DemoOptions {
  /** Where `frontend.jsonl` and `backend.jsonl` are written. */
  spansDir: string;
  /** 0 (default) picks a free port. */
  frontendPort?: number;
  /** 0 (default) picks a free port. */
  backendPort?: number;
  /** Percent of traces sampled (the frontend decides; the backend follows). Default 100. */
  sampleRate?: number | RateSource;
  /** Default 127.0.0.1. */
  host?: string;
  /** Service names. Default `frontend` and `backend`. */
  frontendService?: string;
  backendService?: string;
  /** Where the tracers report their own problems. Default: stderr. */
  logger?: DiagnosticLogger;
}

export interface Demo {
  readonly frontendUrl: string;
  readonly backendUrl: string;
  /** Writes every span ended so far to the span files. */
  flush(): Promise<void>;
  /** Closes both servers, then flushes and closes the span files. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Starts the two demo services in this process, each traced by its own tracer and writing its own
 * span file: frontend SERVER → frontend CLIENT → backend SERVER (same span id, shared) → backend
 * `compute` local span.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const host = options.host ?? '127.0.0.1';
  const common = {
    spansDir: options.spansDir,
    sampleRate: options.sampleRate ?? 100,
    registerGlobal: false,
    instrumentHttp: false,
    logger: options.logger,
  };
  const tracings: Tracing[] = [];
  const servers: import('node:http').Server[] = [];
  try {
    const backendTracing = startTracing({ ...common, serviceName: options.backendService ?? 'backend' });
    tracings.push(backendTracing);
    const backend = createBackend(backendTracing);
    servers.push(backend);
    const backendUrl = await listen(backend, host, options.backendPort ?? 0);

    const frontendTracing = startTracing({ ...common, serviceName: options.frontendService ?? 'frontend' });
    tracings.push(frontendTracing);
    const frontend = createFrontend(frontendTracing, backendUrl);
    servers.push(frontend);
    const frontendUrl = await listen(frontend, host, options.frontendPort ?? 0);

    let stopping: Promise<void> | undefined;
    return {
      frontendUrl,
      backendUrl,
      flush: async () => {
        await Promise.all(tracings.map((t) => t.flush()));
      },
      shutdown: () => {
        stopping ??= stop(servers, tracings);
        return stopping;
      },
    };
  } catch (err) {
    await stop(servers, tracings);
    throw err;
  }
}

async function stop(servers: import('node:http').Server[], tracings: Tracing[]): Promise<void> {
  // frontend first: stop intake before closing what it calls
  for (const server of [...servers].reverse()) await close(server);
  await Promise.all(tracings.map((t) => t.shutdown()));
}
