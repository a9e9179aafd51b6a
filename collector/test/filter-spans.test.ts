import { describe, expect, it } from 'vitest';
import { from, lastValueFrom } from 'rxjs';
import { filterSpans, parseFilterRule } from '../src/filter-spans.js';
import type { SpanBatch } from '../src/types.js';
import { sample, span, testMetrics } from './fakes.js';

describe('filter', () => {
  it('drops spans matching any rule and counts them by rule', async () => {
    const { registry, metrics } = testMetrics();
    const rules = ['service=healthcheck', 'span=get /health', 'annotation=skip', 'tag=http.path=/ping', 'tag=internal'].map(parseFilterRule);
    const keep = span();
    const spans = [
      keep,
      span({ localEndpoint: { serviceName: 'healthcheck' } }),
      span({ name: 'get /health' }),
      span({ annotations: [{ timestamp: 1, value: 'skip' }] }),
      span({ tags: { 'http.path': '/ping' } }),
      span({ tags: { internal: '' } }),
    ];
    const out = await lastValueFrom(from([{ spans, receipts: [] } as SpanBatch]).pipe(filterSpans({ rules, metrics })));
    expect(out.spans).toEqual([keep]);
    expect(await sample(registry, 'pintrace_collector_dropped_total', { stage: 'filter', reason: 'service=healthcheck' })).toBe(1);
    expect(await sample(registry, 'pintrace_collector_dropped_total', { stage: 'filter' })).toBe(5);
    expect(() => parseFilterRule('colour=red')).toThrow(/not one of/);
  });

  it('returns a new batch and leaves the input as it was', async () => {
    const { metrics } = testMetrics();
    const spans = [span(), span({ localEndpoint: { serviceName: 'healthcheck' } })];
    const input: SpanBatch = { spans: [...spans], receipts: [] };
    const out = await lastValueFrom(from([input]).pipe(filterSpans({ rules: [parseFilterRule('service=healthcheck')], metrics })));
    expect(out.spans).toEqual([spans[0]]);
    expect(input.spans).toEqual(spans);
  });
});
