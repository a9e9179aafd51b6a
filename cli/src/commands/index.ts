import type { Command } from 'commander';
import { registerAgent } from './agent.js';
import { registerCollector } from './collector.js';
import { registerDecider } from './decider.js';
import { registerDemo } from './demo.js';
import { DEVSTACK_DESCRIPTION, registerDevstack } from './devstack.js';
import { registerUnavailable, tryLoad } from './optional-parts.js';
import { UP_DESCRIPTION, registerUp } from './up.js';
import { registerSampler } from './sampler.js';
import { registerUi } from './ui.js';

/**
 * Each part registers its own subcommand from its own file. The devstack, optional for the
 * published CLI, is loaded here because its options are part of `up` and `devstack` (and of
 * their --help); it is small. The demo, whose dependencies are heavy, loads only when a command
 * runs it.
 */
export async function registerCommands(program: Command): Promise<void> {
  const devstack = await tryLoad('@pintrace/devstack');
  if (devstack) {
    registerUp(program, devstack);
    registerDevstack(program, devstack);
  } else {
    registerUnavailable(program, 'up', UP_DESCRIPTION, ['@pintrace/demo', '@pintrace/devstack']);
    registerUnavailable(program, 'devstack', DEVSTACK_DESCRIPTION, ['@pintrace/devstack']);
  }
  registerAgent(program);
  registerCollector(program);
  registerDemo(program);
  registerDecider(program);
  registerSampler(program);
  registerUi(program);
}
