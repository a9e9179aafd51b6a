/**
 * Query parameters converted as zipkin-server (Armeria) converts them, with its messages:
 *   missing required          → "Mandatory parameter/header/attribute is missing: <name>"
 *   "" for a primitive        → "Cannot set null to primitive type parameter: <name>"
 *   "" for an optional number → absent
 *   not a Java long/int       → For input string: "<value>"
 * Java's Long/Integer.parseLong grammar: optional sign, then one or more digits, within range.
 * Only the first value of a repeated parameter counts.
 */
import { QueryError } from '@pintrace/storage';

const JAVA_INTEGER = /^[+-]?[0-9]+$/;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;

function bad(message: string): QueryError {
  return new QueryError('QUERY_INVALID', message);
}

function parseJavaInteger(raw: string, min: bigint, max: bigint): number {
  if (!JAVA_INTEGER.test(raw)) throw bad(`For input string: "${raw}"`);
  const value = BigInt(raw);
  if (value < min || value > max) throw bad(`For input string: "${raw}"`);
  // Beyond 2^53 precision is lost; callers bound such values anyway.
  return Number(value);
}

export class Params {
  private readonly search: URLSearchParams;

  constructor(search: URLSearchParams) {
    this.search = search;
  }

  /** A string parameter, or undefined when absent. */
  optionalString(name: string): string | undefined {
    const v = this.search.get(name);
    return v === null ? undefined : v;
  }

  /** A required string parameter ("" allowed). */
  requiredString(name: string): string {
    const v = this.search.get(name);
    if (v === null) throw bad(`Mandatory parameter/header/attribute is missing: ${name}`);
    return v;
  }

  /** Optional<Long>: absent or "" → undefined. */
  optionalLong(name: string): number | undefined {
    const v = this.search.get(name);
    if (v === null || v === '') return undefined;
    return parseJavaInteger(v, LONG_MIN, LONG_MAX);
  }

  /** A primitive long that must be present. */
  requiredLong(name: string): number {
    const v = this.search.get(name);
    if (v === null) throw bad(`Mandatory parameter/header/attribute is missing: ${name}`);
    if (v === '') throw bad(`Cannot set null to primitive type parameter: ${name}`);
    return parseJavaInteger(v, LONG_MIN, LONG_MAX);
  }

  /** A primitive int with a default when absent. */
  intWithDefault(name: string, fallback: number): number {
    const v = this.search.get(name);
    if (v === null) return fallback;
    if (v === '') throw bad(`Cannot set null to primitive type parameter: ${name}`);
    return parseJavaInteger(v, INT_MIN, INT_MAX);
  }
}
