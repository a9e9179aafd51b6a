/**
 * IP address normalisation for endpoints, with zipkin2.Endpoint's observable behaviour:
 * - an IPv4 dotted quad (four 1-3 digit words, each <= 255) is kept as written;
 * - an IPv6 address is rewritten in compressed lower-case form: leading zeros of each group
 *   dropped, the longest run of zero groups (first one on ties, even a single group) as "::";
 *   a trailing zero run is only compressed when no earlier run exists;
 * - an IPv6 text with an embedded dotted quad ("::1.2.3.4", "::ffff:1.2.3.4", "::0000:1.2.3.4")
 *   becomes that IPv4 address; other mixed forms are not accepted;
 * - anything else is not an IP and is dropped (not an error).
 * It does not matter whether the value arrived as "ipv4" or "ipv6": the family decides.
 */
export interface ParsedIp {
  ipv4?: string;
  ipv6?: string;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHexChar(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** A dotted-quad word: 1-3 digits, value at most 255 (leading zeros allowed). */
function isIpv4Word(word: string): boolean {
  if (word.length < 1 || word.length > 3) return false;
  for (let i = 0; i < word.length; i++) if (!isDigit(word.charCodeAt(i))) return false;
  return Number(word) <= 255;
}

export function isIpv4(ip: string): boolean {
  if (ip.length < 7 || ip.length > 15) return false;
  const words = ip.split('.');
  return words.length === 4 && words.every(isIpv4Word);
}

/** Parses IPv6 text (hex groups only, no embedded dotted quad) into 8 groups, or undefined. */
function ipv6Groups(ip: string): number[] | undefined {
  const parts = ip.split(':');
  if (parts.length < 3 || parts.length > 9) return undefined;
  let skip = -1;
  for (let i = 1; i < parts.length - 1; i++) {
    if (parts[i] === '') {
      if (skip >= 0) return undefined;
      skip = i;
    }
  }
  let head: string[];
  let tail: string[];
  if (skip >= 0) {
    head = parts.slice(0, skip);
    tail = parts.slice(skip + 1);
    if (head.length === 1 && head[0] === '') head = [];
    else if (head[0] === '') return undefined;
    if (tail.length === 1 && tail[0] === '') tail = [];
    else if (tail[tail.length - 1] === '') return undefined;
    if (head.length + tail.length > 7) return undefined;
  } else {
    head = parts;
    tail = [];
    if (head.length !== 8) return undefined;
  }
  const groups: number[] = [];
  const parse = (part: string): boolean => {
    if (part.length === 0) return false;
    const value = parseInt(part, 16);
    if (value > 0xffff) return false;
    groups.push(value);
    return true;
  };
  for (const p of head) if (!parse(p)) return undefined;
  if (skip >= 0) for (let i = head.length + tail.length; i < 8; i++) groups.push(0);
  for (const p of tail) if (!parse(p)) return undefined;
  return groups;
}

/** Writes 8 groups in zipkin's compressed form. */
function formatIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = -1;
  let runStart = -1;
  let allZero = true;
  for (let i = 0; i < 8; i++) {
    if (groups[i] === 0) {
      if (runStart < 0) runStart = i;
      continue;
    }
    allZero = false;
    if (runStart >= 0) {
      if (i - runStart > bestLength) {
        bestStart = runStart;
        bestLength = i - runStart;
      }
      runStart = -1;
    }
  }
  if (allZero) return '::';
  if (bestStart === -1 && runStart !== -1) {
    bestStart = runStart;
    bestLength = 8 - runStart;
  }
  let out = '';
  for (let i = 0; i < 8; ) {
    if (i === bestStart) {
      out += ':';
      i += bestLength;
      if (i === 8) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    out += groups[i]!.toString(16);
    i++;
  }
  return out;
}

/** Normalises one IP string; returns {} when it is not an IP address. */
export function parseIp(ip: string): ParsedIp {
  if (ip.length === 0) return {};
  let hasColon = false;
  let hasDot = false;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) hasDot = true;
    else if (c === 0x3a) {
      if (hasDot) return {};
      hasColon = true;
    } else if (!isHexChar(c)) return {};
  }
  if (!hasColon) return hasDot && isIpv4(ip) ? { ipv4: ip } : {};
  if (hasDot) {
    const lastColon = ip.lastIndexOf(':');
    const quad = ip.slice(lastColon + 1);
    if (!isIpv4(quad)) return {};
    if (lastColon === 1 && ip.charCodeAt(0) === 0x3a) return { ipv4: quad };
    if (lastColon !== 6 || !ip.startsWith('::')) return {};
    for (let i = 2; i < 6; i++) {
      const c = ip[i];
      if (c !== 'f' && c !== 'F' && c !== '0') return {};
    }
    return { ipv4: quad };
  }
  const groups = ipv6Groups(ip);
  if (groups === undefined) return {};
  return { ipv6: formatIpv6(groups) };
}
