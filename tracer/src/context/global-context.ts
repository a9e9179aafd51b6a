import { context } from '@opentelemetry/api';
import { AsyncLocalContextManager } from './async-local-context-manager.js';

/**
 * Every tracing setup in a process needs one global context manager, and two setups (two services
 * in one process, as in tests and the demo) must share it. The first acquire registers ours
 * (unless the app registered its own); the last release removes it.
 */
let users = 0;
let registered = false;

export function acquireGlobalContextManager(): void {
  users++;
  if (users > 1) return;
  const manager = new AsyncLocalContextManager();
  // false when the app already registered a context manager: then we use the app's.
  registered = context.setGlobalContextManager(manager);
}

export function releaseGlobalContextManager(): void {
  if (users === 0) return;
  users--;
  if (users > 0 || !registered) return;
  registered = false;
  context.disable();
}
