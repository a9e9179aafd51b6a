import { describe, expect, it } from 'vitest';
import { heapGrowingPercentOption, memoryBudgetLaunch, resolveConfig } from '@pintrace/runtime';

describe('memory budget launch', () => {
  it('sizes the young generation to a 32nd of the budget and caps the malloc arenas', () => {
    expect(memoryBudgetLaunch('collector', 256, { execArgv: [], env: {} })).toEqual({ nodeFlags: ['--max-semi-space-size=8'], env: { MALLOC_ARENA_MAX: '2' } });
    expect(memoryBudgetLaunch('collector', 40, { execArgv: [], env: {} })?.nodeFlags).toEqual(['--max-semi-space-size=1']);
    expect(memoryBudgetLaunch('collector', 4096, { execArgv: [], env: {} })?.nodeFlags).toEqual(['--max-semi-space-size=32']);
  });

  it("sizes the agent's young generation to a 16th of the budget: its intake's batches outlive a smaller one", () => {
    expect(memoryBudgetLaunch('agent', 256, { execArgv: [], env: {} })).toEqual({ nodeFlags: ['--max-semi-space-size=16'], env: { MALLOC_ARENA_MAX: '2' } });
    expect(memoryBudgetLaunch('agent', 1024, { execArgv: [], env: {} })?.nodeFlags).toEqual(['--max-semi-space-size=32']);
  });

  it('leaves what the operator set, in the command line or NODE_OPTIONS', () => {
    expect(memoryBudgetLaunch('collector', 256, { execArgv: ['--max-semi-space-size=16'], env: {} })).toEqual({
      nodeFlags: [],
      env: { MALLOC_ARENA_MAX: '2' },
    });
    expect(memoryBudgetLaunch('collector', 256, { execArgv: [], env: { NODE_OPTIONS: '--max_semi_space_size=4', MALLOC_ARENA_MAX: '8' } })).toBeUndefined();
  });

  it('does nothing with a budget of 0 or once applied (no restart loop)', () => {
    expect(memoryBudgetLaunch('collector', 0, { execArgv: [], env: {} })).toBeUndefined();
    expect(memoryBudgetLaunch('collector', 256, { execArgv: [], env: { PINTRACE_COLLECTOR_MEMORY_BUDGET_APPLIED: '256' } })).toBeUndefined();
    // another part's mark (a part started from a restarted one's environment) does not count
    expect(memoryBudgetLaunch('agent', 256, { execArgv: [], env: { PINTRACE_COLLECTOR_MEMORY_BUDGET_APPLIED: '256' } })?.nodeFlags).toEqual([
      '--max-semi-space-size=16',
    ]);
    expect(memoryBudgetLaunch('agent', 256, { execArgv: [], env: { PINTRACE_AGENT_MEMORY_BUDGET_APPLIED: '256' } })).toBeUndefined();
  });
});

describe('--heap-growing-percent', () => {
  const options = {
    collector: heapGrowingPercentOption('collector', { default: 20 }),
    agent: heapGrowingPercentOption('agent', { whenUnset: '50 with --intake true' }),
  };

  it('is one option for every part: the same flag and key, an env var per part, a default or a rule when unset', () => {
    expect(resolveConfig({ heapGrowingPercent: options.collector }, { env: {} }).heapGrowingPercent).toBe(20);
    expect(resolveConfig({ heapGrowingPercent: options.agent }, { env: {} }).heapGrowingPercent).toBeUndefined();
    expect(resolveConfig({ heapGrowingPercent: options.agent }, { env: { PINTRACE_AGENT_HEAP_GROWING_PERCENT: '30' } }).heapGrowingPercent).toBe(30);
    expect(resolveConfig({ heapGrowingPercent: options.collector }, { flags: { heapGrowingPercent: '0' }, env: {} }).heapGrowingPercent).toBe(0);
    expect(options.agent.description).toContain('unset: 50 with --intake true');
  });

  it('refuses what is not a whole number of percent, naming the option', () => {
    expect(() => resolveConfig({ heapGrowingPercent: options.agent }, { env: { PINTRACE_AGENT_HEAP_GROWING_PERCENT: '-5' } })).toThrow(
      /heap-growing-percent|PINTRACE_AGENT_HEAP_GROWING_PERCENT/,
    );
    expect(() => resolveConfig({ heapGrowingPercent: options.collector }, { flags: { heapGrowingPercent: 'half' }, env: {} })).toThrow(/heap-growing-percent/);
  });
});
