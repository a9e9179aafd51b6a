import { describe, expect, it } from 'vitest';
import { FinagleIssue343Adjuster } from '../../src/adjusters/finagle-issue343-adjuster.js';
import { span } from '../fakes.js';

describe('FinagleIssue343Adjuster', () => {
  it('removes finagle.flush from memcache spans only (finagle#343)', () => {
    const a = new FinagleIssue343Adjuster();
    const s = span({
      annotations: [
        { timestamp: 1, value: 'finagle.flush' },
        { timestamp: 2, value: 'ws' },
      ],
      tags: { 'memcached.result': 'Hit' },
    });
    expect(a.shouldAdjust(s)).toBe(true);
    expect(a.adjust(s).annotations).toEqual([{ timestamp: 2, value: 'ws' }]);
    expect(a.shouldAdjust({ ...s, tags: { x: 'y' } })).toBe(false);
  });
});
