/**
 * Authentication for every endpoint: HTTP Basic (users "name:password") and Bearer tokens.
 *
 *   Authorization = "Basic" SP base64(name ":" password) / "Bearer" SP token     (RFC 7617, RFC 6750)
 *
 * Secrets are compared as SHA-256 digests with timingSafeEqual, so timing does not reveal them.
 * With no users and no tokens configured, authentication is off; startUiProxy refuses that on a
 * non-loopback address unless `auth: 'off'` says it is intended.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { UiProxyError } from './errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export interface AuthOptions {
  /** "name:password" entries. */
  users: readonly string[];
  tokens: readonly string[];
}

export interface Authenticator {
  readonly enabled: boolean;
  /** The principal ("user:<name>" or "token"), or undefined when the request is not allowed. */
  check(req: IncomingMessage): string | undefined;
}

function matchesAny(candidate: Buffer, secrets: readonly Buffer[]): boolean {
  let found = false;
  for (const s of secrets) found = timingSafeEqual(candidate, s) || found;
  return found;
}

export function createAuthenticator(options: AuthOptions): Authenticator {
  const users = options.users.map((u) => {
    const i = u.indexOf(':');
    return { name: u.slice(0, i), secret: digest(u) };
  });
  const tokens = options.tokens.map(digest);
  const enabled = users.length > 0 || tokens.length > 0;
  return {
    enabled,
    check(req) {
      if (!enabled) return 'anonymous';
      const header = req.headers.authorization;
      if (typeof header !== 'string') return undefined;
      const space = header.indexOf(' ');
      if (space < 0) return undefined;
      const scheme = header.slice(0, space).toLowerCase();
      const value = header.slice(space + 1).trim();
      if (scheme === 'bearer' && tokens.length > 0) {
        return matchesAny(digest(value), tokens) ? 'token' : undefined;
      }
      if (scheme === 'basic' && users.length > 0) {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon <= 0) return undefined;
        const candidate = digest(decoded);
        const user = users.find((u) => timingSafeEqual(candidate, u.secret));
        return user === undefined ? undefined : `user:${user.name}`;
      }
      return undefined;
    },
  };
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and "localhost". */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./i.test(h);
  return false;
}

/** Refuses an open server on a public address unless the operator said so. */
export function assertSafeExposure(host: string, auth: Authenticator, mode: 'auto' | 'off'): void {
  if (auth.enabled || mode === 'off' || isLoopback(host)) return;
  throw new UiProxyError(
    'UI_CONFIG_INVALID',
    `refusing to serve traces on ${host} without authentication: set --users name:password or --tokens TOKEN ` +
      '(PINTRACE_UI_USERS / PINTRACE_UI_TOKENS), listen on 127.0.0.1, or pass --auth off to allow it',
  );
}

/** Challenge headers of a 401. */
export function challenge(options: AuthOptions): Record<string, string> {
  const schemes: string[] = [];
  if (options.users.length > 0) schemes.push('Basic realm="pintrace", charset="UTF-8"');
  if (options.tokens.length > 0) schemes.push('Bearer realm="pintrace"');
  return { 'www-authenticate': schemes.join(', ') };
}
