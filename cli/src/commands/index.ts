import type { Command } from 'commander';
import { registerAgent } from './agent.js';
import { registerCollector } from './collector.js';
import { registerDecider } from './decider.js';
import { registerDemo } from './demo.js';
import { registerDevstack } from './devstack.js';
import { registerUp } from './up.js';
import { registerUi } from './ui.js';

/** Each part registers its own subcommand from its own file. */
export function registerCommands(program: Command): void {
  registerUp(program);
  registerDevstack(program);
  registerAgent(program);
  registerCollector(program);
  registerDemo(program);
  registerDecider(program);
  registerUi(program);
}
