import { describe, expect, it } from 'vitest';
import { FinagleAdjuster } from '../../src/adjusters/finagle-adjuster.js';
import { span } from '../fakes.js';

describe('FinagleAdjuster', () => {
  it('backfills Finagle timestamp and duration from cs/cr, leaving authoritative values alone', () => {
    const a = new FinagleAdjuster();
    const s = span({
      timestamp: undefined,
      duration: undefined,
      tags: { 'srv/finagle.version': '6.28.0' },
      annotations: [
        { timestamp: 10, value: 'cs' },
        { timestamp: 12, value: 'sr' },
        { timestamp: 18, value: 'ss' },
        { timestamp: 20, value: 'cr' },
      ],
    });
    expect(a.shouldAdjust(s)).toBe(true);
    expect(a.adjust(s)).toMatchObject({ timestamp: 10, duration: 10 });
    const server = span({
      timestamp: undefined,
      duration: undefined,
      tags: { 'srv/finagle.version': '6.28.0' },
      annotations: [
        { timestamp: 12, value: 'sr' },
        { timestamp: 18, value: 'ss' },
      ],
    });
    expect(a.adjust(server)).toMatchObject({ timestamp: 12, duration: 6 });
    expect(a.shouldAdjust(span({ tags: { 'srv/finagle.version': '6.28.0' } }))).toBe(false);
    expect(a.shouldAdjust(span({ timestamp: undefined }))).toBe(false);
  });
});
