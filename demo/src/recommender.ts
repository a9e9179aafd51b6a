import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface RecommenderOptions {
  /** A Python with the OpenTelemetry SDK and OTLP exporter (scripts/setup.mjs makes var/python-otel). */
  python: string;
  /** The agent intake's OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
  otlpEndpoint: string;
  /** Default `recommender`. */
  serviceName?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface Recommender {
  /** `http://127.0.0.1:<port>/recommend`. */
  readonly url: string;
  /** SIGTERM; the SDK flushes its last spans on the way out. */
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL('../python/recommender.py', import.meta.url));

/** Starts the demo's Python service (python/recommender.py), which reports over OTLP. */
export function startRecommender(options: RecommenderOptions): Promise<Recommender> {
  const child = spawn(
    options.python,
    [script, '--endpoint', options.otlpEndpoint, '--port', String(options.port ?? 0), '--service', options.serviceName ?? 'recommender'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  return new Promise<Recommender>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the Python recommender did not start: ${out.slice(-500)}`));
    }, 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the Python recommender exited (${code}): ${out.slice(-500)}`));
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${m[1]}/recommend`,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGINT');
          await exited;
        },
      });
    });
  });
}
