import { describe, expect, it } from 'vitest';
import { Subject, VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { groupByTimeWindow } from '../src/group-by-time-window.js';

describe('group by time window', () => {
  it('emits tumbling windows aligned to their size, early when full', () => {
    const scheduler = new VirtualTimeScheduler(VirtualAction, 5000);
    const input = new Subject<number>();
    const out: Array<{ start: number; items: number[]; partial: boolean }> = [];
    input
      .pipe(groupByTimeWindow<number>({ sizeMs: 1000, maxItems: 3, scheduler }))
      .subscribe((w) => out.push({ start: w.start, items: w.items, partial: w.partial }));
    input.next(1);
    input.next(2);
    input.next(3);
    input.next(4);
    scheduler.flush();
    expect(out.slice(0, 2)).toEqual([
      { start: 0, items: [1, 2, 3], partial: true },
      { start: 0, items: [4], partial: false },
    ]);
  });
});
