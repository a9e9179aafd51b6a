export { up, down, status, reachable, servers, DevstackError } from './devstack.js';
export type { ServerStatus, ServerName } from './devstack.js';
export { devstackOptions } from './options.js';
export type { DevstackConfig } from './options.js';
export { MissingPrerequisiteError } from './prerequisites.js';
