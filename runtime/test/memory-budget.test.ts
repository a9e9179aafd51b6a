import { describe, expect, it } from 'vitest';
import { memoryBudgetLaunch } from '@pintrace/runtime';

describe('memory budget launch', () => {
  it('sizes the young generation to a 32nd of the budget and caps the malloc arenas', () => {
    expect(memoryBudgetLaunch('collector', 256, { execArgv: [], env: {} })).toEqual({ nodeFlags: ['--max-semi-space-size=8'], env: { MALLOC_ARENA_MAX: '2' } });
    expect(memoryBudgetLaunch('collector', 40, { execArgv: [], env: {} })?.nodeFlags).toEqual(['--max-semi-space-size=1']);
    expect(memoryBudgetLaunch('collector', 4096, { execArgv: [], env: {} })?.nodeFlags).toEqual(['--max-semi-space-size=32']);
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
      '--max-semi-space-size=8',
    ]);
    expect(memoryBudgetLaunch('agent', 256, { execArgv: [], env: { PINTRACE_AGENT_MEMORY_BUDGET_APPLIED: '256' } })).toBeUndefined();
  });
});
