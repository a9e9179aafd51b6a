// What the CLI and the benchmarks use; everything else is internal (tests import src files directly).
export { startAgent } from './agent.js';
export type { Agent, AgentDeps } from './agent.js';
export { agentOptions } from './options.js';
export type { AgentConfig } from './options.js';
export { publishDeciderValue, DEFAULT_DECIDER_TOPIC } from './decider-publish.js';
export type { PublishDeciderOptions } from './decider-publish.js';
export type { Intake } from './intake/intake.js';
