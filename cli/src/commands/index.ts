import type { Command } from 'commander';
import { registerDevstack } from './devstack.js';

/** Each part registers its own subcommand from its own file. */
export function registerCommands(program: Command): void {
  registerDevstack(program);
}
