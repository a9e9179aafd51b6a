/**
 * Service and span name normaliser: renames services by alias (e.g. "frontend-canary" →
 * "frontend") on both endpoints, and rewrites span names with patterns (e.g. "/users/123" →
 * "/users/{id}") so names stay low-cardinality, as zipkin asks. Results are lower-cased, as
 * zipkin-server stores names.
 */
import type { Endpoint, Span } from '@pintrace/model';
import type { SpanAdjuster } from './span-adjuster.js';

export interface NameNormalizerOptions {
  /** Service name → replacement (keys compared lower-case). */
  serviceAliases?: Record<string, string>;
  /** Applied in order to span names. */
  spanNamePatterns?: Array<{ pattern: RegExp | string; replacement: string }>;
}

export class NameNormalizer implements SpanAdjuster {
  readonly name = 'name_normalizer';
  private readonly aliases: Map<string, string>;
  private readonly patterns: Array<{ pattern: RegExp; replacement: string }>;

  constructor(options: NameNormalizerOptions) {
    this.aliases = new Map(Object.entries(options.serviceAliases ?? {}).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()]));
    this.patterns = (options.spanNamePatterns ?? []).map(({ pattern, replacement }) => ({
      pattern: typeof pattern === 'string' ? new RegExp(pattern, 'g') : pattern,
      replacement,
    }));
  }

  shouldAdjust(span: Span): boolean {
    return this.renamed(span.localEndpoint) !== undefined || this.renamed(span.remoteEndpoint) !== undefined || this.spanName(span) !== span.name;
  }

  adjust(span: Span): Span {
    const out: Span = { ...span };
    const local = this.renamed(span.localEndpoint);
    if (local !== undefined) out.localEndpoint = { ...span.localEndpoint, serviceName: local };
    const remote = this.renamed(span.remoteEndpoint);
    if (remote !== undefined) out.remoteEndpoint = { ...span.remoteEndpoint, serviceName: remote };
    const name = this.spanName(span);
    if (name !== undefined) out.name = name;
    return out;
  }

  private renamed(endpoint: Endpoint | undefined): string | undefined {
    const name = endpoint?.serviceName;
    if (name === undefined) return undefined;
    const alias = this.aliases.get(name.toLowerCase());
    return alias !== undefined && alias !== name ? alias : undefined;
  }

  private spanName(span: Span): string | undefined {
    if (span.name === undefined || this.patterns.length === 0) return span.name;
    let name = span.name;
    for (const { pattern, replacement } of this.patterns) name = name.replace(pattern, replacement);
    return name.toLowerCase();
  }
}
