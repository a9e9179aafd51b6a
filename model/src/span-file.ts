/**
 * Span file names: the contract between the writer (the tracer) and the reader (the logger agent).
 *
 *   <service>.jsonl                      one process per service on the host (the first layout)
 *   <service>@<instance>.jsonl           one file per writing process: `<instance>` is the pid and a
 *                                        random part (`4711-k3x9a2`), unique across restarts and across
 *                                        containers whose processes share a pid (pid 1) and a hostPath
 *   <live name>.<epoch-ms>               a rotated file (renamed by its writer; the agent seals an
 *                                        abandoned per-process file the same way)
 *
 * Service names are `[A-Za-z0-9._-]`, so `@` cannot occur in one and marks the per-process form
 * without ambiguity. Each live name has exactly one writer, so rotated names cannot collide.
 */

/** The writer re-checks that its open file still has its name before a write after this long idle. */
export const SPAN_FILE_RECHECK_IDLE_MS = 30_000;

/**
 * The reader may seal (rename) a per-process live file idle this long at least: 4 × the writer's
 * re-check period, so a writer still alive re-checks before its next write and opens a new file
 * instead of appending to one that is about to be removed.
 */
export const SPAN_FILE_ABANDONED_IDLE_MS = 4 * SPAN_FILE_RECHECK_IDLE_MS;

const SERVICE = /^[A-Za-z0-9._-]+$/;
const INSTANCE = /^[A-Za-z0-9_-]+$/;
const PER_PROCESS = /^([A-Za-z0-9._-]+)@([A-Za-z0-9_-]+)\.jsonl$/;

/** True for a service name a span file can carry. */
export function isSpanFileServiceName(service: string): boolean {
  return SERVICE.test(service);
}

/** The live span file name of a service, per process when `instance` is given. */
export function spanFileName(service: string, instance?: string): string {
  if (!SERVICE.test(service)) throw new Error(`span file: service name must match [A-Za-z0-9._-]+, got ${JSON.stringify(service)}`);
  if (instance === undefined) return `${service}.jsonl`;
  if (!INSTANCE.test(instance)) throw new Error(`span file: instance must match [A-Za-z0-9_-]+, got ${JSON.stringify(instance)}`);
  return `${service}@${instance}.jsonl`;
}

/** A new process instance id: the pid (for people) and 6 random base-36 characters (for uniqueness). */
export function newSpanFileInstance(pid: number = process.pid, random: () => number = Math.random): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += Math.floor(random() * 36).toString(36);
  return `${pid}-${suffix}`;
}

/** The service and instance of a per-process live file name (`<service>@<instance>.jsonl`), else undefined. */
export function perProcessSpanFile(liveName: string): { service: string; instance: string } | undefined {
  const m = PER_PROCESS.exec(liveName);
  return m ? { service: m[1], instance: m[2] } : undefined;
}
