import { describe, expect, it } from 'vitest';
import { newSpanFileInstance, perProcessSpanFile, SPAN_FILE_ABANDONED_IDLE_MS, SPAN_FILE_RECHECK_IDLE_MS, spanFileName } from '@pintrace/model';

describe('span file names (writer ↔ agent contract)', () => {
  it('names the per-service and the per-process live file', () => {
    expect(spanFileName('checkout')).toBe('checkout.jsonl');
    expect(spanFileName('checkout.api', '4711-k3x9a2')).toBe('checkout.api@4711-k3x9a2.jsonl');
    expect(() => spanFileName('a/b')).toThrow(/service name/);
    expect(() => spanFileName('a', 'x.y')).toThrow(/instance/);
  });

  it('reads the service and instance back from a per-process live name only; a dotted service name stays whole', () => {
    expect(perProcessSpanFile('checkout.api@4711-k3x9a2.jsonl')).toEqual({ service: 'checkout.api', instance: '4711-k3x9a2' });
    expect(perProcessSpanFile('checkout.jsonl')).toBeUndefined();
    expect(perProcessSpanFile('checkout@1-a.jsonl.1700000000000')).toBeUndefined();
  });

  it('instances carry the pid and differ between calls', () => {
    const a = newSpanFileInstance(4711);
    expect(a).toMatch(/^4711-[a-z0-9]{6}$/);
    expect(new Set(Array.from({ length: 1000 }, () => newSpanFileInstance())).size).toBe(1000);
    expect(perProcessSpanFile(spanFileName('svc', a))).toEqual({ service: 'svc', instance: a });
  });

  it('the reader waits well beyond the writer’s re-check period before sealing an idle file', () => {
    expect(SPAN_FILE_ABANDONED_IDLE_MS).toBeGreaterThanOrEqual(2 * SPAN_FILE_RECHECK_IDLE_MS);
  });
});
