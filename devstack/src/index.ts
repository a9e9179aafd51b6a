export { up, down, status, reachable, servers, DevstackError } from './devstack.js';
export type { ServerStatus, ServerName } from './devstack.js';
export { devstackOptions } from './options.js';
export type { DevstackConfig } from './options.js';
export { MissingPrerequisiteError } from './prerequisites.js';
export { ensureDevCerts, CertificateError } from './certs.js';
export type { DevCerts } from './certs.js';
export { ensureSecret, readSecret, secretFile, secretsDir } from './secrets.js';
