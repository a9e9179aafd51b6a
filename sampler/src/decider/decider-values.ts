import { createHash } from 'node:crypto';

/**
 * The decider document: a KingPin managed hashmap, a JSON object of lower-case names to numbers
 * of percent (0..100, fractions allowed, e.g. `0.3`):
 *
 *   { "pintrace.sample_rate": 0.3, "pintrace.sample_rate.checkout": 5 }
 *
 * KingPin stored ints; fractions are our extension (Pinterest sampled 0.3 %). Names are
 * case-insensitive (stored and looked up lower-case). A document with any invalid entry is
 * rejected as a whole, so a half-edited file never takes effect.
 */
export type DeciderValues = ReadonlyMap<string, number>;

/** Why a decider document was rejected. */
export class DeciderFormatError extends Error {
  readonly code = 'INVALID_DECIDER_FILE' as const;
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeciderFormatError';
  }
}

/** True for a usable decider value: a finite number from 0 to 100. */
export function isDeciderValue(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 100;
}

/** A decider name: non-empty, no whitespace or control characters; returned lower-case. */
export function normalizeDeciderName(name: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 512 || /[\s\u0000-\u001f"]/.test(name)) {
    throw new DeciderFormatError(`decider name must be a non-empty string without spaces or quotes, got ${JSON.stringify(name)}`);
  }
  return name.toLowerCase();
}

/** Parses the JSON text of a decider file. Throws {@link DeciderFormatError}. */
export function parseDeciderValues(text: string): DeciderValues {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new DeciderFormatError(`decider file is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new DeciderFormatError('decider file must hold a JSON object of name → percent');
  }
  const values = new Map<string, number>();
  for (const [key, value] of Object.entries(doc)) {
    const name = normalizeDeciderName(key);
    if (!isDeciderValue(value)) {
      throw new DeciderFormatError(`decider ${JSON.stringify(key)}: value must be a number of percent from 0 to 100, got ${JSON.stringify(value)}`);
    }
    values.set(name, value);
  }
  return values;
}

/** The file text for `values`: sorted keys (as KingPin writes), two-space indent, final newline. */
export function formatDeciderValues(values: DeciderValues | Record<string, number>): string {
  const entries = values instanceof Map ? [...values.entries()] : Object.entries(values);
  const sorted: Record<string, number> = {};
  for (const [key, value] of entries.map(([k, v]) => [normalizeDeciderName(k), v] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!isDeciderValue(value)) {
      throw new DeciderFormatError(`decider ${JSON.stringify(key)}: value must be a number of percent from 0 to 100, got ${JSON.stringify(value)}`);
    }
    sorted[key] = value;
  }
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

/** Content hash used to skip reloads of unchanged content. */
export function contentHash(content: string | Buffer): string {
  return createHash('sha1').update(content).digest('hex');
}
