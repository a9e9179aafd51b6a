import type { Logger } from '@pintrace/runtime';
import type { Registry } from 'prom-client';
import { GrpcIntake } from './grpc-intake.js';
import { HttpIntake } from './http-intake.js';
import { IntakeCore } from './intake-core.js';
import { IntakeMetrics } from './metrics.js';
import { Spool, type FsyncPolicy } from './spool.js';

export interface IntakeConfig {
  spansDir: string;
  intakeHost: string;
  otlpHttpPort: number;
  otlpGrpcPort: number;
  zipkinPort: number;
  intakeFsync: FsyncPolicy;
  intakeFsyncIntervalMs: number;
  intakeSpoolMaxBytes: number;
  intakeSpoolFileBytes: number;
  intakeMaxBodyBytes: number;
  intakeRetryAfterSeconds: number;
  maxLineBytes: number;
}

/** The running intake: its listeners' ports and the spool file they append to. */
export interface Intake {
  readonly spoolFile: string;
  readonly otlpHttpPort: number | undefined;
  readonly otlpGrpcPort: number | undefined;
  readonly zipkinPort: number | undefined;
  readonly metrics: IntakeMetrics;
  /** Stops taking requests (in-flight ones finish), then closes the spool. */
  close(): Promise<void>;
}

/**
 * Starts the intake listeners and their spool. `shippedLag` reports the agent's unshipped bytes of
 * the spool's stream (undefined before the agent tails it), which bounds the spool.
 */
export async function startIntake(
  config: IntakeConfig,
  deps: { registry: Registry; log: Logger; shippedLag: (stream: string) => Promise<number | undefined> },
): Promise<Intake> {
  const metrics = new IntakeMetrics(deps.registry);
  const spool: Spool = new Spool({
    dir: config.spansDir,
    fsync: config.intakeFsync,
    fsyncIntervalMs: config.intakeFsyncIntervalMs,
    maxBytes: config.intakeSpoolMaxBytes,
    fileBytes: config.intakeSpoolFileBytes,
    shippedLag: () => deps.shippedLag(spool.stream),
  });
  await spool.start();
  const core = new IntakeCore(spool, metrics, config.maxLineBytes);
  const common = {
    host: config.intakeHost,
    core,
    metrics,
    log: deps.log,
    maxBodyBytes: config.intakeMaxBodyBytes,
    retryAfterSeconds: config.intakeRetryAfterSeconds,
  };
  const shared = config.zipkinPort === config.otlpHttpPort && config.zipkinPort !== 0;
  const otlpHttp = new HttpIntake({ ...common, port: config.otlpHttpPort, routes: { otlp: true, zipkin: shared } });
  const zipkin = shared ? undefined : new HttpIntake({ ...common, port: config.zipkinPort, routes: { otlp: false, zipkin: true } });
  const grpc = new GrpcIntake({ ...common, port: config.otlpGrpcPort });
  const started: { close(): Promise<void> }[] = [];
  try {
    for (const server of [otlpHttp, zipkin, grpc]) {
      if (server === undefined) continue;
      await server.start();
      started.push(server);
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    await spool.close();
    throw err;
  }
  deps.log.info(
    {
      host: config.intakeHost,
      otlpHttpPort: otlpHttp.port,
      otlpGrpcPort: grpc.port,
      zipkinPort: (zipkin ?? otlpHttp).port,
      spool: spool.file,
      fsync: config.intakeFsync,
    },
    'intake listening',
  );
  let closing: Promise<void> | undefined;
  return {
    spoolFile: spool.file,
    otlpHttpPort: otlpHttp.port,
    otlpGrpcPort: grpc.port,
    zipkinPort: (zipkin ?? otlpHttp).port,
    metrics,
    close: () =>
      (closing ??= (async () => {
        await Promise.all(started.map((s) => s.close()));
        await spool.close();
      })()),
  };
}
