/**
 * kafkajs 2.2.4 re-arms a timer after every check of a broker connection's queue of waiting
 * requests, with the delay `throttledUntil - Date.now()`. Unless the broker is throttling the
 * client, that delay is negative, and Node runs it after 1 ms: an idle connection checks its empty
 * queue every millisecond for as long as it lives, which keeps a core a few percent busy per
 * connection, and Node 24 prints a TimeoutNegativeWarning, not JSON, to stderr. Upstream:
 * tulios/kafkajs#1751, open. A check is only needed while requests wait: a request queued later
 * schedules its own. Patched on the prototype (kafkajs is pinned at 2.2.4); if the shape is not
 * the expected one nothing is changed.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

interface RequestQueueLike {
  pending: unknown[];
}

export const idleRequestQueueQuiet: boolean = install();

function install(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const file = path.join(path.dirname(require.resolve('kafkajs')), 'src', 'network', 'requestQueue', 'index.js');
    const RequestQueue = require(file) as { prototype: Record<string, unknown> };
    const schedule = RequestQueue.prototype.scheduleCheckPendingRequests;
    if (typeof schedule !== 'function' || typeof RequestQueue.prototype.checkPendingRequests !== 'function') return false;
    RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueLike): unknown {
      if (!Array.isArray(this.pending) || this.pending.length > 0) return schedule.call(this);
      return undefined;
    };
    return true;
  } catch {
    return false;
  }
}
