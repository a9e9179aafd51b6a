import { describe, expect, it } from 'vitest';
import { parseTraceIdList } from '../../src/query/trace-ids.js';

describe('traceMany id list', () => {
  it.each([
    ['', 'traceIds parameter is empty'],
    ['a,a', 'redundant traceId: a'],
    ['a,00a', 'redundant traceId: 00a'],
    ['a', 'Use /api/v2/trace/{traceId} endpoint to retrieve a single trace'],
    ['a,,b', 'traceId is empty'],
    ['a,XYZ', 'XYZ should be lower-hex encoded with no prefix'],
  ])('%j → %s', (input, message) => {
    expect(() => parseTraceIdList(input)).toThrow(message);
  });
  it('normalises ids', () => {
    expect(parseTraceIdList('a,0000000000000000000000000000000b')).toEqual(['000000000000000a', '000000000000000b']);
  });
});
