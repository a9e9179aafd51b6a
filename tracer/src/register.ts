/**
 * Zero-code start: `node --import @pintrace/tracer/register app.js` (ESM or CommonJS app).
 * Configured by the environment alone (see otel-env.ts: OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER,
 * OTEL_PROPAGATORS, PINTRACE_SPANS_DIR, ...). Reading `process.env` is this module's whole job;
 * the library itself takes values.
 *
 * A configuration the tracer cannot use throws here, so the process does not start and the
 * message names the variable to change. `import { tracing } from '@pintrace/tracer/register'`
 * gives the running instance (undefined when OTEL_SDK_DISABLED=true).
 */
import { stderrLogger } from './diagnostics.js';
import { tracingOptionsFromEnv } from './otel-env.js';
import { startTracing, type Tracing } from './start-tracing.js';

const config = tracingOptionsFromEnv(process.env);
for (const warning of config.warnings) stderrLogger.warn({}, warning);

export const tracing: Tracing | undefined = config.options ? startTracing(config.options) : undefined;

if (tracing) {
  const started = tracing;
  // Spans still queued at a signal would be lost: Node's default action ends the process at once.
  // When the application has no handler of its own, flush and close, then let the default action
  // run by raising the signal again. When it has one, it owns the exit: flush only, and the span
  // logger writes what comes after on 'beforeExit' or at shutdown.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (process.listenerCount(signal) > 1) {
      void started.flush();
      return;
    }
    process.off(signal, onSignal);
    void started.shutdown().finally(() => process.kill(process.pid, signal));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
