/**
 * What a root "serves", in the sense of per-endpoint sample rates: the tracer decides a new trace
 * at `pintrace.sample_rate.<service>.<endpoint>` (and the adaptive sampler's
 * `pintrace.sample_rate_auto.<service>.<endpoint>`), and the collector counts stored roots per
 * the same endpoint, so the controller that sets the rate sees what the rate governs. Both call
 * this one function.
 *
 * The endpoint is the root's `http.path` when it has one, else its name. Not the route: an HTTP
 * framework reports its route only after the sampling decision, when the span is renamed
 * `<method> <route>`. Compared case-insensitively, as decider names are lower-case: the rate
 * source lower-cases on lookup (only when the service has endpoint rates, so a tracer without them
 * pays nothing), the collector when it counts.
 */
export function samplingEndpointOf(name: string, httpPath: unknown): string {
  return typeof httpPath === 'string' ? httpPath : name;
}
