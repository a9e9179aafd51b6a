import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../src/offset-tracker.js';

describe('OffsetTracker', () => {
  it('commits the end of the longest run of finished batches, in offset order', () => {
    const tracker = new OffsetTracker();
    const a = tracker.open('t', 0, 0n, 10n);
    const b = tracker.open('t', 0, 10n, 20n);
    const c = tracker.open('t', 0, 20n, 30n);
    b.release();
    c.release();
    expect(tracker.takeCommittable()).toEqual([]); // a is not written: nothing past it
    a.release();
    expect(tracker.takeCommittable()).toEqual([{ topic: 't', partition: 0, offset: '30' }]);
    expect(tracker.takeCommittable()).toEqual([]);
    expect(tracker.isIdle()).toBe(true);
  });

  it('keeps partitions apart', () => {
    const tracker = new OffsetTracker();
    const p0 = tracker.open('t', 0, 0n, 5n);
    const p1 = tracker.open('t', 1, 100n, 105n);
    p1.release();
    expect(tracker.takeCommittable()).toEqual([{ topic: 't', partition: 1, offset: '105' }]);
    expect(tracker.inFlight()).toBe(1);
    p0.release();
    expect(tracker.takeCommittable()).toEqual([{ topic: 't', partition: 0, offset: '5' }]);
  });

  it('gives failed commits back for the next take, unless something newer superseded them', () => {
    const tracker = new OffsetTracker();
    tracker.open('t', 0, 0n, 5n).release();
    const first = tracker.takeCommittable();
    tracker.commitFailed(first);
    expect(tracker.takeCommittable()).toEqual(first);
    tracker.open('t', 0, 5n, 9n).release();
    tracker.commitFailed(first); // late failure report: 9 is already ready, keep it
    expect(tracker.takeCommittable()).toEqual([{ topic: 't', partition: 0, offset: '9' }]);
  });

  it('never moves a commit backwards when a batch is delivered again', () => {
    const tracker = new OffsetTracker();
    tracker.open('t', 0, 0n, 10n).release();
    expect(tracker.takeCommittable()).toEqual([{ topic: 't', partition: 0, offset: '10' }]);
    tracker.open('t', 0, 5n, 8n).release();
    expect(tracker.takeCommittable()).toEqual([]);
  });

  it('forgets revoked partitions and ignores their late releases', () => {
    const tracker = new OffsetTracker();
    const revoked = tracker.open('t', 0, 0n, 5n);
    const kept = tracker.open('t', 1, 0n, 5n);
    tracker.retainOnly([{ topic: 't', partition: 1 }]);
    revoked.release();
    kept.release();
    expect(tracker.takeCommittable()).toEqual([{ topic: 't', partition: 1, offset: '5' }]);
  });

  it('handles offsets beyond 2^53', () => {
    const tracker = new OffsetTracker();
    tracker.open('t', 0, 9007199254740993n, 9007199254740995n).release();
    expect(tracker.takeCommittable()).toEqual([{ topic: 't', partition: 0, offset: '9007199254740995' }]);
  });
});
