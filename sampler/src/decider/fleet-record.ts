/**
 * The fleet decider topic's record format, shared by its producers (`pintrace decider set
 * --fleet`, `pintrace sampler`) and its readers (every agent's mirror, the sampler):
 *
 *   topic   one partition (one order for every key), cleanup.policy=compact
 *   key     the decider name, lower-case (UTF-8)
 *   value   the percent as decimal text ("0.3"); null or empty = tombstone (the name is removed)
 */
import { isDeciderValue, normalizeDeciderName } from './decider-values.js';

/** The fleet decider topic when none is configured (`--decider-topic`, PINTRACE_DECIDER_TOPIC). */
export const DEFAULT_DECIDER_TOPIC = 'pintrace-decider';

/** Topic config of the fleet decider topic (created with one partition). */
export const DECIDER_TOPIC_CONFIG: Readonly<Record<string, string>> = { 'cleanup.policy': 'compact' };

/** One record's name and value (`undefined` = tombstone), or undefined when it is not a decider record. */
export function parseDeciderRecord(m: { key: Buffer | null; value: Buffer | null }): { name: string; value: number | undefined } | undefined {
  if (m.key === null || m.key.length === 0) return undefined;
  let name: string;
  try {
    name = normalizeDeciderName(m.key.toString('utf8'));
  } catch {
    return undefined;
  }
  if (m.value === null || m.value.length === 0) return { name, value: undefined };
  const text = m.value.toString('utf8').trim();
  const value = Number(text);
  if (text === '' || !isDeciderValue(value)) return undefined;
  return { name, value };
}
