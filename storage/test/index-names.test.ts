import { describe, expect, it } from 'vitest';
import { IndexNameFormatter } from '../src/index-names.js';
import { StorageError } from '../src/errors.js';

const at = (iso: string): number => Date.parse(iso);

describe('formatTypeAndRange (IndexNameFormatterTest)', () => {
  const dash = new IndexNameFormatter({ index: 'zipkin', dateSeparator: '-' });
  const dot = new IndexNameFormatter({ index: 'zipkin', dateSeparator: '.' });
  it.each([
    ['same time', dash, '2016-11-01T01:01:01Z', '2016-11-01T01:01:01Z', ['zipkin*span-2016-11-01']],
    ['same day', dash, '2016-11-01T01:01:01Z', '2016-11-01T23:59:59Z', ['zipkin*span-2016-11-01']],
    ['same month', dash, '2016-11-15T01:01:01Z', '2016-11-16T23:59:59Z', ['zipkin*span-2016-11-15', 'zipkin*span-2016-11-16']],
    [
      'same month starting at one',
      dash,
      '2016-11-01T01:01:01Z',
      '2016-11-03T23:59:59Z',
      ['zipkin*span-2016-11-01', 'zipkin*span-2016-11-02', 'zipkin*span-2016-11-03'],
    ],
    ['next month', dash, '2016-10-31T01:01:01Z', '2016-11-01T23:59:59Z', ['zipkin*span-2016-10-31', 'zipkin*span-2016-11-01']],
    ['compresses month', dash, '2016-10-01T01:01:01Z', '2016-10-31T23:59:59Z', ['zipkin*span-2016-10-*']],
    ['skip months', dash, '2016-10-31T01:01:01Z', '2016-12-01T23:59:59Z', ['zipkin*span-2016-10-31', 'zipkin*span-2016-11-*', 'zipkin*span-2016-12-01']],
    [
      'skip months leap year',
      dash,
      '2016-02-28T01:01:01Z',
      '2016-04-01T23:59:59Z',
      ['zipkin*span-2016-02-28', 'zipkin*span-2016-02-29', 'zipkin*span-2016-03-*', 'zipkin*span-2016-04-01'],
    ],
    ['compresses year', dash, '2016-01-01T01:01:01Z', '2016-12-31T23:59:59Z', ['zipkin*span-2016-*']],
    [
      'skip years',
      dash,
      '2016-10-31T01:01:01Z',
      '2018-01-01T23:59:59Z',
      ['zipkin*span-2016-10-31', 'zipkin*span-2016-11-*', 'zipkin*span-2016-12-*', 'zipkin*span-2017-*', 'zipkin*span-2018-01-01'],
    ],
    ['other separator same day', dot, '2016-11-01T01:01:01Z', '2016-11-01T23:59:59Z', ['zipkin*span-2016.11.01']],
    ['other separator same month', dot, '2016-11-15T01:01:01Z', '2016-11-16T23:59:59Z', ['zipkin*span-2016.11.15', 'zipkin*span-2016.11.16']],
    [
      'other separator starting at one',
      dot,
      '2016-11-01T01:01:01Z',
      '2016-11-03T23:59:59Z',
      ['zipkin*span-2016.11.01', 'zipkin*span-2016.11.02', 'zipkin*span-2016.11.03'],
    ],
    ['other separator next month', dot, '2016-10-31T01:01:01Z', '2016-11-01T23:59:59Z', ['zipkin*span-2016.10.31', 'zipkin*span-2016.11.01']],
    ['other separator compresses month', dot, '2016-10-01T01:01:01Z', '2016-10-31T23:59:59Z', ['zipkin*span-2016.10.*']],
    [
      'other separator skip months',
      dot,
      '2016-10-31T01:01:01Z',
      '2016-12-01T23:59:59Z',
      ['zipkin*span-2016.10.31', 'zipkin*span-2016.11.*', 'zipkin*span-2016.12.01'],
    ],
    [
      'other separator leap year',
      dot,
      '2016-02-28T01:01:01Z',
      '2016-04-01T23:59:59Z',
      ['zipkin*span-2016.02.28', 'zipkin*span-2016.02.29', 'zipkin*span-2016.03.*', 'zipkin*span-2016.04.01'],
    ],
    ['other separator compresses year', dot, '2016-01-01T01:01:01Z', '2016-12-31T23:59:59Z', ['zipkin*span-2016.*']],
    [
      'other separator skip years',
      dot,
      '2016-10-31T01:01:01Z',
      '2018-01-01T23:59:59Z',
      ['zipkin*span-2016.10.31', 'zipkin*span-2016.11.*', 'zipkin*span-2016.12.*', 'zipkin*span-2017.*', 'zipkin*span-2018.01.01'],
    ],
    [
      'compresses tens',
      dot,
      '2016-10-01T01:01:01Z',
      '2016-10-30T01:01:01Z',
      ['zipkin*span-2016.10.0*', 'zipkin*span-2016.10.1*', 'zipkin*span-2016.10.2*', 'zipkin*span-2016.10.30'],
    ],
    [
      'compresses tens starting at nine',
      dot,
      '2016-10-09T01:01:01Z',
      '2016-10-30T01:01:01Z',
      ['zipkin*span-2016.10.09', 'zipkin*span-2016.10.1*', 'zipkin*span-2016.10.2*', 'zipkin*span-2016.10.30'],
    ],
    [
      'compresses tens starting at nineteen',
      dot,
      '2016-10-19T01:01:01Z',
      '2016-10-30T01:01:01Z',
      ['zipkin*span-2016.10.19', 'zipkin*span-2016.10.2*', 'zipkin*span-2016.10.30'],
    ],
    ['compresses tens, not a 30-day month', dot, '2016-06-01T01:01:01Z', '2016-06-30T01:01:01Z', ['zipkin*span-2016.06.*']],
  ] as const)('%s', (_name, formatter, begin, end, expected) => {
    expect(formatter.formatTypeAndRange('span', at(begin), at(end))).toEqual(expected);
  });
  it('does not compress the month or days 1-9 on January 1st (as zipkin)', () => {
    expect(dash.formatTypeAndRange('span', at('2018-01-01T00:00:00Z'), at('2018-02-01T00:00:00Z'))).toEqual([
      ...Array.from({ length: 9 }, (_, i) => `zipkin*span-2018-01-0${i + 1}`),
      'zipkin*span-2018-01-1*',
      'zipkin*span-2018-01-2*',
      'zipkin*span-2018-01-30',
      'zipkin*span-2018-01-31',
      'zipkin*span-2018-02-01',
    ]);
  });
  it('returns nothing when begin is after end', () => {
    expect(dash.formatTypeAndRange('span', at('2016-11-02T00:00:00Z'), at('2016-11-01T00:00:00Z'))).toEqual([]);
  });
});

describe('write and read names', () => {
  const names = new IndexNameFormatter();
  const t = at('2026-04-08T12:00:00Z');
  it('write names use the version delimiter', () => {
    expect(names.formatTypeAndTimestampForInsert('span', '-', t)).toBe('zipkin-span-2026-04-08');
    expect(names.formatTypeAndTimestampForInsert('dependency', '-', t)).toBe('zipkin-dependency-2026-04-08');
    expect(names.formatTypeAndTimestampForInsert('autocomplete', ':', t)).toBe('zipkin:autocomplete-2026-04-08');
  });
  it('read names use *', () => {
    expect(names.formatTypeAndTimestamp('span', t)).toBe('zipkin*span-2026-04-08');
    expect(names.formatType('span')).toBe('zipkin*span-*');
  });
  it('supports an empty date separator and epoch edge days', () => {
    expect(new IndexNameFormatter({ dateSeparator: '' }).formatDate(t)).toBe('20260408');
    expect(names.formatDate(0)).toBe('1970-01-01');
    expect(names.formatDate(-1)).toBe('1969-12-31');
  });
  it('rejects bad prefixes and separators with actionable messages', () => {
    expect(() => new IndexNameFormatter({ index: 'Zipkin' })).toThrow(StorageError);
    expect(() => new IndexNameFormatter({ index: '_zipkin' })).toThrow(/not starting with/);
    expect(() => new IndexNameFormatter({ dateSeparator: '--' })).toThrow(/one character/);
  });
});
