/**
 * Index names as zipkin's IndexNameFormatter builds them.
 *
 *   write name  = <index><delimiter><type>-<date>     e.g. zipkin-span-2026-04-08 (zipkin:span-... on ES < 7)
 *   read name   = <index>*<type>-<date>              the '*' reads both delimiters
 *   all of type = <index>*<type>-*
 *   date        = yyyy<sep>MM<sep>dd in UTC; sep defaults to '-', may be one char or empty.
 * Read ranges compress: a whole year "<y><sep>*", a whole month "<y><sep><m><sep>*", and days
 * 01-09 / 10-19 / 20-29 as "0*" / "1*" / "2*" when the range covers them entirely.
 */
import { StorageError } from './errors.js';

export type IndexType = 'span' | 'dependency' | 'autocomplete' | 'red';

const DAY_MS = 86_400_000;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

export interface IndexNameOptions {
  /** Index prefix (zipkin's ES_INDEX). Default "zipkin". */
  index?: string;
  /** Date separator (ES_DATE_SEPARATOR): one character or empty. Default "-". */
  dateSeparator?: string;
}

export class IndexNameFormatter {
  readonly index: string;
  readonly dateSeparator: string;

  constructor(options: IndexNameOptions = {}) {
    this.index = options.index ?? 'zipkin';
    this.dateSeparator = options.dateSeparator ?? '-';
    if (this.dateSeparator.length > 1) {
      throw new StorageError('STORAGE_CONFIG_INVALID', `dateSeparator must be empty or one character, was "${this.dateSeparator}"`);
    }
    if (this.index === '' || Buffer.byteLength(this.index) > 231 || /[:#\\/*?"<>| ,A-Z]/.test(this.index) || /^[-_+]/.test(this.index)) {
      throw new StorageError(
        'STORAGE_CONFIG_INVALID',
        `index "${this.index}" is not a valid Elasticsearch index prefix: use lower-case, at most 231 bytes, ` +
          'no : # \\ / * ? " < > | space or comma, not starting with - _ +',
      );
    }
  }

  /** The UTC day of `millis` as yyyy<sep>MM<sep>dd. */
  formatDate(millis: number): string {
    const d = new Date(Math.floor(millis / DAY_MS) * DAY_MS);
    const s = this.dateSeparator;
    return `${String(d.getUTCFullYear()).padStart(4, '0')}${s}${pad2(d.getUTCMonth() + 1)}${s}${pad2(d.getUTCDate())}`;
  }

  /** Name to write a document of `type` for the day of `millis`. */
  formatTypeAndTimestampForInsert(type: IndexType, delimiter: ':' | '-', millis: number): string {
    return `${this.index}${delimiter}${type}-${this.formatDate(millis)}`;
  }

  /** Read name for one day. */
  formatTypeAndTimestamp(type: IndexType, millis: number): string {
    return `${this.index}*${type}-${this.formatDate(millis)}`;
  }

  /** Read pattern for every day of a type. */
  formatType(type: IndexType): string {
    return `${this.index}*${type}-*`;
  }

  /** Read patterns covering the UTC days from `beginMillis` to `endMillis`, compressed. */
  formatTypeAndRange(type: IndexType, beginMillis: number, endMillis: number): string[] {
    const prefix = `${this.index}*${type}`;
    const s = this.dateSeparator;
    const end = Math.floor(endMillis / DAY_MS) * DAY_MS;
    let current = Math.floor(beginMillis / DAY_MS) * DAY_MS;
    const out: string[] = [];
    while (current <= end) {
      const d = new Date(current);
      const year = d.getUTCFullYear();
      const month0 = d.getUTCMonth();
      const day = d.getUTCDate();
      const ym = `${year}${s}${pad2(month0 + 1)}${s}`;
      if (month0 === 0 && day === 1) {
        const lastOfYear = Date.UTC(year, 11, 31);
        if (lastOfYear <= end) {
          out.push(`${prefix}-${year}${s}*`);
          current = lastOfYear + DAY_MS;
          continue;
        }
        // zipkin does not try the month or days 1-9 on January 1st.
      } else if (day === 1 || day === 10 || day === 20) {
        // Month first (only from day 1), then the decade of days.
        if (day === 1) {
          const lastOfMonth = Date.UTC(year, month0, daysInMonth(year, month0));
          if (lastOfMonth <= end) {
            out.push(`${prefix}-${ym}*`);
            current = lastOfMonth + DAY_MS;
            continue;
          }
        }
        const lastOfDecade = Date.UTC(year, month0, day === 1 ? 9 : day + 9);
        if (lastOfDecade <= end) {
          out.push(`${prefix}-${ym}${day === 1 ? 0 : day / 10}*`);
          current = lastOfDecade + DAY_MS;
          continue;
        }
      }
      out.push(`${prefix}-${ym}${pad2(day)}`);
      current += DAY_MS;
    }
    return out;
  }
}
