import type { Command } from 'commander';

/** Each part registers its own subcommand from its own file. */
export function registerCommands(program: Command): void {
  void program;
}
