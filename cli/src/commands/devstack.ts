import type { Command } from 'commander';
import type { ServerStatus } from '@pintrace/devstack';
import type { DevstackModule } from './optional-parts.js';
import { addOptions, configFrom } from './options.js';

/** `store` (and `elasticsearch`, its old name) select the store --storage chose. */
const names = ['kafka', 'store', 'elasticsearch', 'opensearch', 'opensearch3', 'zipkin'];

function parseServers(args: string[]): string[] | undefined {
  if (!args.length) return undefined;
  const bad = args.filter((a) => !names.includes(a));
  if (bad.length) {
    process.stderr.write(`pintrace devstack: unknown server ${bad.join(', ')} (choose from ${names.join(', ')})\n`);
    process.exit(2);
  }
  return args;
}

function printTable(rows: ServerStatus[]): void {
  for (const r of rows) {
    const state = r.external ? 'up (external)' : r.ready ? 'up' : r.pids.length ? `starting/unhealthy (${r.detail ?? ''})` : 'down';
    process.stdout.write(`${r.name.padEnd(14)} ${state.padEnd(14)} ${r.address.padEnd(32)} log ${r.logFile}\n`);
  }
}

async function guarded(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    process.stderr.write(`pintrace devstack: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

export const DEVSTACK_DESCRIPTION =
  'Run real Kafka 4.1.1, a store (Elasticsearch 8.8.2, OpenSearch 2.19 or 3.x) and zipkin-server 3.6.1 locally from Maven Central (no Docker)';

/** `pintrace devstack up|down|status [server...]`: real Kafka, Elasticsearch and zipkin-server on loopback, no Docker. */
export function registerDevstack(program: Command, devstack: DevstackModule): void {
  const { devstackOptions, down, status, up } = devstack;
  const group = program
    .command('devstack')
    .description(DEVSTACK_DESCRIPTION)
    .addHelpText(
      'after',
      '\nClients: <dir>/client-config.json holds the settings every part needs (use it as --config); with --secure its secrets are files under <dir>/secrets/.',
    );

  const upCmd = addOptions(
    group
      .command('up')
      .argument('[servers...]', `any of ${names.join(', ')} (default all)`)
      .description('Start the servers (idempotent) and wait until they are ready'),
    devstackOptions,
  );
  upCmd.action(async (servers: string[], _opts: unknown, cmd: Command) =>
    guarded(async () => {
      const config = configFrom(devstackOptions, cmd);
      const t0 = Date.now();
      const rows = await up(config, parseServers(servers));
      process.stderr.write(`devstack ready in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
      printTable(rows);
    }),
  );

  const downCmd = addOptions(
    group
      .command('down')
      .argument('[servers...]', `any of ${names.join(', ')} (default all)`)
      .description('Stop the servers, including ones a crashed `up` left behind'),
    devstackOptions,
  );
  downCmd.action(async (servers: string[], _opts: unknown, cmd: Command) =>
    guarded(async () => {
      await down(configFrom(devstackOptions, cmd), parseServers(servers));
    }),
  );

  const statusCmd = addOptions(
    group
      .command('status')
      .argument('[servers...]', `any of ${names.join(', ')} (default all)`)
      .description('Show which servers run and answer (exit 3 if any is not up)'),
    devstackOptions,
  );
  statusCmd.action(async (servers: string[], _opts: unknown, cmd: Command) =>
    guarded(async () => {
      const rows = await status(configFrom(devstackOptions, cmd), parseServers(servers));
      printTable(rows);
      if (rows.some((r) => !r.ready)) process.exitCode = 3;
    }),
  );
}
