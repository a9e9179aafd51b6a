import type { Command } from 'commander';
import { startUiProxy, uiOptions } from '@pintrace/ui-proxy';
import { createLogger, Shutdown } from '@pintrace/runtime';
import { addOptions, configFrom } from './options.js';

/**
 * `pintrace ui`: the Zipkin API v2 and the Zipkin UI served from Elasticsearch (default port 9412),
 * with authentication, bounded queries, /metrics and /health; runs until SIGTERM/SIGINT.
 */
export function registerUi(program: Command): void {
  const cmd = program.command('ui').description('Serve the Zipkin API v2 and UI from Elasticsearch (auth, base path, bounded queries, /metrics, /health)');
  addOptions(cmd, uiOptions);
  cmd.action(async () => {
    const config = configFrom(uiOptions, cmd);
    const log = createLogger('ui-proxy');
    const shutdown = new Shutdown(log);
    try {
      const starting = startUiProxy(config, { log });
      shutdown.addStarting('ui-proxy', starting, (proxy) => proxy.shutdown()).installSignalHandlers();
      const proxy = await starting;
      process.stderr.write(`pintrace ui: Zipkin UI at ${proxy.url} (API under /api/v2 and /zipkin/api/v2)\n`);
    } catch (err) {
      process.stderr.write(`pintrace ui: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    }
  });
}
