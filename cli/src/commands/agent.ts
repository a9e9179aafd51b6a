import type { Command } from 'commander';
import { agentOptions, startAgent } from '@pintrace/logger-agent';
import { createLogger, DEFAULT_MEMORY_BUDGET_MB, relaunchWithinMemoryBudget, Shutdown } from '@pintrace/runtime';
import { addOptions, configFrom } from './options.js';

/**
 * `pintrace agent`: the logger agent (Singer-like). Tails the span logs in --spans-dir and ships
 * them to Kafka with watermarks in --state-dir, until SIGTERM / SIGINT, which drains the
 * in-flight batches, writes the final watermarks and disconnects.
 */
export function registerAgent(program: Command): void {
  const cmd = program.command('agent').description('Tail span log files (one per service process, rotated by rename) and ship them to Kafka, at-least-once');
  addOptions(cmd, agentOptions);
  cmd.action(async () => {
    const config = configFrom(agentOptions, cmd);
    const log = createLogger('logger-agent');
    // first: this replaces the process (same pid) when it was not started within the budget. By
    // default only an agent with its intake has one: the file-tailing agent's RSS does not depend
    // on it, and a smaller young generation only cost it CPU (bench/README.md, "intake")
    relaunchWithinMemoryBudget('agent', config.memoryBudgetMb ?? (config.intake ? DEFAULT_MEMORY_BUDGET_MB : 0), log);
    const starting = startAgent(config, { log });
    // Everything inside the agent is unref'ed; this keeps the process up until a signal.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    new Shutdown(log)
      .add('keep-alive', () => clearInterval(keepAlive))
      .addStarting('agent', starting, (agent) => agent.shutdown())
      .installSignalHandlers();
    try {
      await starting;
    } catch (err) {
      clearInterval(keepAlive);
      throw err;
    }
  });
}
