/**
 * Stage `filter` (exported as `filterSpans`, not to shadow RxJS's `filter`): drops spans by
 * configured rules, each drop counted under the rule's text as the reason
 * (`dropped{stage="filter",reason="service=healthcheck"}`).
 *
 * Rule grammar (one rule per string; a span matching any rule is dropped):
 *   service=<name>          local service name (lower case, as stored)
 *   remoteService=<name>    remote service name
 *   span=<name>             span name
 *   annotation=<value>      an annotation with exactly this value
 *   tag=<key>               a tag with this key
 *   tag=<key>=<value>       a tag with this key and value
 * Names are compared lower-case. The batch's receipts flow on, so dropped spans' offsets are
 * committed like written ones.
 */
import type { OperatorFunction } from 'rxjs';
import type { Span } from '@pintrace/model';
import { CollectorError } from './errors.js';
import type { CollectorMetrics } from './metrics.js';
import { stage } from './stage.js';
import type { SpanBatch } from './types.js';

export interface FilterRule {
  /** The rule as written; the metric reason. */
  text: string;
  matches(span: Span): boolean;
}

/** Parses one rule; throws COLLECTOR_CONFIG_INVALID with the grammar when it is not a rule. */
export function parseFilterRule(text: string): FilterRule {
  const eq = text.indexOf('=');
  const kind = eq < 0 ? '' : text.slice(0, eq).trim();
  const arg = eq < 0 ? '' : text.slice(eq + 1).trim();
  const lower = arg.toLowerCase();
  const rule = (matches: (span: Span) => boolean): FilterRule => ({ text, matches });
  if (arg !== '') {
    switch (kind) {
      case 'service':
        return rule((s) => s.localEndpoint?.serviceName?.toLowerCase() === lower);
      case 'remoteService':
        return rule((s) => s.remoteEndpoint?.serviceName?.toLowerCase() === lower);
      case 'span':
        return rule((s) => s.name?.toLowerCase() === lower);
      case 'annotation':
        return rule((s) => s.annotations?.some((a) => a.value === arg) ?? false);
      case 'tag': {
        const sep = arg.indexOf('=');
        if (sep < 0) return rule((s) => s.tags !== undefined && Object.hasOwn(s.tags, arg));
        const key = arg.slice(0, sep);
        const value = arg.slice(sep + 1);
        return rule((s) => s.tags !== undefined && s.tags[key] === value);
      }
    }
  }
  throw new CollectorError(
    'COLLECTOR_CONFIG_INVALID',
    `filter rule "${text}" is not one of service=NAME, remoteService=NAME, span=NAME, annotation=VALUE, tag=KEY, tag=KEY=VALUE`,
  );
}

export interface FilterOptions {
  rules: readonly FilterRule[];
  metrics: CollectorMetrics;
}

export function filterSpans(options: FilterOptions): OperatorFunction<SpanBatch, SpanBatch> {
  const { rules } = options;
  return stage(options.metrics, 'filter', 'span', (batch: SpanBatch, drop): SpanBatch => {
    if (rules.length === 0) return batch;
    const kept = batch.spans.filter((span) => {
      const rule = rules.find((r) => r.matches(span));
      if (rule !== undefined) drop(rule.text, 1);
      return rule === undefined;
    });
    return { ...batch, spans: kept };
  });
}
