import { Command } from 'commander';
import { devstackOptions, down, status, up, type ServerName, type ServerStatus } from '@pintrace/devstack';
import { addOptions, configFrom } from './options.js';

const names: ServerName[] = ['kafka', 'elasticsearch', 'zipkin'];

function parseServers(args: string[]): ServerName[] | undefined {
  if (!args.length) return undefined;
  const bad = args.filter((a) => !names.includes(a as ServerName));
  if (bad.length) {
    process.stderr.write(`pintrace devstack: unknown server ${bad.join(', ')} (choose from ${names.join(', ')})\n`);
    process.exit(2);
  }
  return args as ServerName[];
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

/** `pintrace devstack up|down|status [server...]`: real Kafka, Elasticsearch and zipkin-server on loopback, no Docker. */
export function registerDevstack(program: Command): void {
  const devstack = program
    .command('devstack')
    .description('Run real Kafka 4.1.1, Elasticsearch 8.8.2 and zipkin-server 3.6.1 locally from Maven Central (no Docker)')
    .addHelpText(
      'after',
      '\nClients: <dir>/client-config.json holds the settings every part needs (use it as --config); with --secure its secrets are files under <dir>/secrets/.',
    );

  const upCmd = addOptions(
    devstack.command('up').argument('[servers...]', `any of ${names.join(', ')} (default all)`).description('Start the servers (idempotent) and wait until they are ready'),
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
    devstack.command('down').argument('[servers...]', `any of ${names.join(', ')} (default all)`).description('Stop the servers, including ones a crashed `up` left behind'),
    devstackOptions,
  );
  downCmd.action(async (servers: string[], _opts: unknown, cmd: Command) =>
    guarded(async () => {
      await down(configFrom(devstackOptions, cmd), parseServers(servers));
    }),
  );

  const statusCmd = addOptions(
    devstack.command('status').argument('[servers...]', `any of ${names.join(', ')} (default all)`).description('Show which servers run and answer (exit 3 if any is not up)'),
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
