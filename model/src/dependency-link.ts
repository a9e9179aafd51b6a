/**
 * One edge of Zipkin's service dependency graph (zipkin2.DependencyLink): calls from `parent` to
 * `child` over some window, and how many of them failed. The collector's linker derives these
 * from traces, storage writes and reads them, and GET /api/v2/dependencies answers with a list
 * of them in this shape (on the wire `errorCount` is left out when it is 0, as Zipkin does).
 */
export interface DependencyLink {
  /** Service name of the caller, lower-case. */
  parent: string;
  /** Service name of the callee, lower-case. */
  child: string;
  callCount: number;
  errorCount: number;
}
