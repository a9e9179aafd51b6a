/**
 * A long-running part's memory budget (`--memory-budget-mb`, default 256 for the collector and for
 * the agent with its intake). Two of the largest parts of a Node process's RSS can only be sized
 * before it starts, so the part's command restarts itself once, first thing, through
 * `process.execve` (the same pid, so a supervisor, its signals and its pid file are unaffected),
 * with:
 *
 * - V8's young generation: `--max-semi-space-size` = budget / 32 MB for the collector (8 MB for
 *   256), budget / 16 for the agent (16 MB). Node 24's V8 sizes it from the machine's memory
 *   instead (32 MB per semi-space on a 24 GB host, 64 MB per semi-space measured under the
 *   bench/collector burst): 134 MB of new space alone (the peaks with and without a budget are in
 *   bench/README.md). Setting it from inside a running process has no effect.
 *   The agent's intake keeps each batch across a Kafka delivery, so more of them outlive a small
 *   young generation: with 8 MB its CPU per span was 1.1–1.3× that with 16 MB, at the same peak
 *   RSS. Its old generation is kept small by `--heap-growing-percent` instead (below).
 * - glibc's malloc arenas: `MALLOC_ARENA_MAX=2`. librdkafka's threads, libuv's pool and V8's
 *   helpers each get an arena by default (8 × cores), and the freed message buffers they hold do
 *   not go back to the system: ~30 MB of the collector burst's peak.
 *
 * A flag or variable the operator already set wins; with nothing left to change, or no
 * `process.execve` (Windows), the process runs as started. `pintrace up` runs the parts inside a
 * shared process and does not apply a budget.
 */
import { setFlagsFromString } from 'node:v8';
import { nonNegativeIntSchema } from './config.js';
import type { OptionSpec } from './option-spec.js';
import type { Logger } from './logger.js';

/** The budget a part is sized for unless told otherwise (the collector always, the agent with its intake). */
export const DEFAULT_MEMORY_BUDGET_MB = 256;

/**
 * `--memory-budget-mb` of a part (`PINTRACE_<PART>_MEMORY_BUDGET_MB`), the same for each. With
 * `whenUnset`, the option has no default: the part chooses one from its other settings (the
 * agent: by its intake, see logger-agent/README.md) and `whenUnset` says how in `--help`.
 */
export function memoryBudgetOption(part: 'agent' | 'collector', whenUnset?: string): OptionSpec<number | undefined> {
  return {
    key: 'memoryBudgetMb',
    flag: 'memory-budget-mb',
    env: `PINTRACE_${part.toUpperCase()}_MEMORY_BUDGET_MB`,
    description:
      `RSS the \`pintrace ${part}\` process is sized for: it restarts itself once at start-up (same pid) with V8's young ` +
      `generation and the C allocator's arenas sized to it (0 = run as started${whenUnset === undefined ? '' : `; unset: ${whenUnset}`})`,
    ...(whenUnset === undefined ? { default: String(DEFAULT_MEMORY_BUDGET_MB) } : {}),
    schema: nonNegativeIntSchema.optional(),
  };
}

/**
 * `--heap-growing-percent` of a part (`PINTRACE_<PART>_HEAP_GROWING_PERCENT`): how far V8 lets
 * the old generation grow past its live size before the next full GC. V8 allows up to 4× while
 * collecting is cheap, and the garbage promoted between full GCs then made up much of the RSS:
 * the collector's burst with ~45 MB live took the heap past 130 MB and the RSS past 280 MB; the
 * agent's intake, whose batches live across a Kafka delivery, peaked at 259–290 MB, and at
 * 207–237 MB with 100 % (and a 16 MB semi-space) for the same CPU per span (bench/README.md,
 * "intake"). With `whenUnset`, as memoryBudgetOption.
 */
export function heapGrowingPercentOption(
  part: 'agent' | 'collector',
  defaultOrWhenUnset: { default: number } | { whenUnset: string },
): OptionSpec<number | undefined> {
  return {
    key: 'heapGrowingPercent',
    flag: 'heap-growing-percent',
    env: `PINTRACE_${part.toUpperCase()}_HEAP_GROWING_PERCENT`,
    description:
      'V8 heap growth after a full GC, in % of the live heap (keeps RSS low under bursts, for some more full GCs; ' +
      `0 = V8's own${'whenUnset' in defaultOrWhenUnset ? `; unset: ${defaultOrWhenUnset.whenUnset}` : ''})`,
    ...('default' in defaultOrWhenUnset ? { default: String(defaultOrWhenUnset.default) } : {}),
    schema: nonNegativeIntSchema.optional(),
  };
}

/**
 * Applies `--heap-growing-percent` to this process (0 leaves V8's own factor). V8 reads it at every
 * GC, so unlike the budget's flags it takes effect when set at run time; it applies to the whole
 * process (`pintrace up`'s parts share one).
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${Math.trunc(percent)}`);
}

/**
 * Set in the restarted process so that it does not restart again; per part (`PINTRACE_AGENT_…`,
 * `PINTRACE_COLLECTOR_…`), so that a part started from another's environment is still sized.
 */
const appliedEnv = (part: string) => `PINTRACE_${part.toUpperCase()}_MEMORY_BUDGET_APPLIED`;

export interface MemoryBudgetLaunch {
  /** Node/V8 flags to start with. */
  nodeFlags: string[];
  /** Environment variables to add. */
  env: Record<string, string>;
}

/**
 * What the process must be started with to fit `budgetMb`, given how it was started; undefined
 * when it already is (or the budget is 0).
 */
export function memoryBudgetLaunch(
  part: string,
  budgetMb: number,
  started: { execArgv: readonly string[]; env: Readonly<Record<string, string | undefined>> },
): MemoryBudgetLaunch | undefined {
  if (budgetMb <= 0 || started.env[appliedEnv(part)] !== undefined) return undefined;
  const nodeFlags: string[] = [];
  const env: Record<string, string> = {};
  // V8 takes its flags with - or _ alike
  const given = [...started.execArgv, ...(started.env.NODE_OPTIONS ?? '').split(/\s+/)].map((a) => a.split('=')[0]!.replaceAll('_', '-'));
  const has = (flag: string) => given.includes(flag);
  const divisor = part === 'agent' ? 16 : 32;
  if (!has('--max-semi-space-size')) nodeFlags.push(`--max-semi-space-size=${Math.min(32, Math.max(1, Math.floor(budgetMb / divisor)))}`);
  if (started.env.MALLOC_ARENA_MAX === undefined) env.MALLOC_ARENA_MAX = '2';
  if (nodeFlags.length === 0 && Object.keys(env).length === 0) return undefined;
  return { nodeFlags, env };
}

/**
 * Restarts this process within `budgetMb` (see above); returns only when no restart is needed
 * or possible. Call it before anything else runs: what was started is replaced, not stopped.
 */
export function relaunchWithinMemoryBudget(part: string, budgetMb: number, log: Logger): void {
  const launch = memoryBudgetLaunch(part, budgetMb, { execArgv: process.execArgv, env: process.env });
  if (launch === undefined) return;
  if (typeof process.execve !== 'function') {
    log.info({ memoryBudgetMb: budgetMb, ...launch }, `cannot restart within the memory budget on this platform; start the ${part} with these`);
    return;
  }
  try {
    process.execve(process.execPath, [process.execPath, ...launch.nodeFlags, ...process.execArgv, ...process.argv.slice(1)], {
      ...process.env,
      ...launch.env,
      [appliedEnv(part)]: String(budgetMb),
    });
  } catch (err) {
    log.warn({ err, memoryBudgetMb: budgetMb }, 'restarting within the memory budget failed; running as started');
  }
}
