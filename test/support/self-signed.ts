import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * A throwaway self-signed certificate `<name>.pem` with its key `<name>.key` in `dir`, valid for
 * two days: a test's own CA, or a server certificate its client trusts directly. `extensions`
 * are openssl `-addext` values such as `subjectAltName=IP:127.0.0.1`.
 */
export function selfSignedCert(dir: string, name: string, subject: string, extensions: readonly string[] = []): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  const addext = extensions.flatMap((e) => ['-addext', e]);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', subject, ...addext], {
    stdio: 'ignore',
  });
  return { cert, key };
}
